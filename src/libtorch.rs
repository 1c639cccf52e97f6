//! libtorch side by side (feature `tch`): conversions between torchlet and `tch` tensors, and the
//! tutorials' model trained by libtorch itself, as the reference that the parity tests and the examples'
//! side-by-side runs compare torchlet against.
//!
//! ```
//! use torchlet::libtorch::{from_tch, to_tch, TchLinear};
//! use torchlet::nn::Linear;
//! use torchlet::regression::{AutodiffLinear, Regressor};
//! use torchlet::Tensor;
//!
//! let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]);
//! assert_eq!(from_tch::<f64>(&to_tch(&x)?)?.to_vec()?, x.to_vec()?);
//!
//! // The same layer trained by libtorch and by torchlet, from the same start.
//! let start = Linear::from_parameters(&Tensor::new([[0.5, -0.5]]), Some(&Tensor::new([0.1])))?;
//! let mut theirs = TchLinear::from_linear(&start, 0.01)?;
//! let mut ours = AutodiffLinear::new(Linear::from_parameters(start.weight(), start.bias())?, 0.01)?;
//! let y = Tensor::new([[1.0], [2.0]]);
//! for _ in 0..10 {
//!     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
//!     assert!((a - b).abs() <= 1e-12 * a.abs());
//! }
//! # Ok::<(), torchlet::Error>(())
//! ```

use crate::element::Element;
use crate::error::{Error, Result};
use crate::nn::Linear;
use crate::regression::Regressor;
use crate::tensor::Tensor;
use std::marker::PhantomData;

/// An element type that both torchlet and libtorch have (`f32`, `f64`).
pub trait TchElement: Element + tch::kind::Element + Copy {}
impl TchElement for f32 {}
impl TchElement for f64 {}

fn tch_error(e: tch::TchError) -> Error {
    Error::invalid("libtorch", e.to_string())
}

/// A libtorch tensor with the same shape and values (no history).
pub fn to_tch<T: TchElement>(t: &Tensor<T>) -> Result<tch::Tensor> {
    let shape: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    tch::Tensor::f_from_slice(&t.to_vec()?).and_then(|x| x.f_reshape(&shape)).map_err(tch_error)
}

/// A torchlet tensor with the same shape and values as a libtorch one.
pub fn from_tch<T: TchElement>(t: &tch::Tensor) -> Result<Tensor<T>> {
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let flat = t.f_flatten(0, -1).map_err(tch_error)?;
    let values = Vec::<T>::try_from(&flat).map_err(tch_error)?;
    Tensor::from_vec(values, &shape)
}

/// `nn.Linear` + `nn.MSELoss` + `optim.SGD` in libtorch (a `tch::nn::linear` in a `VarStore`), behind
/// the same [`Regressor`] interface as torchlet's models.
///
/// ```
/// use torchlet::libtorch::TchLinear;
/// use torchlet::regression::Regressor;
/// use torchlet::Tensor;
/// let mut model = TchLinear::<f32>::new(3, 2, true, 1e-5, 42)?; // torch.manual_seed(42); nn.Linear(3, 2)
/// let (x, y) = (Tensor::new([[73.0, 67.0, 43.0]]), Tensor::new([[56.0, 70.0]]));
/// let first = model.train_step(&x, &y)?;
/// assert!(model.evaluate(&x, &y)? < first);
/// let ours = model.to_linear()?; // the same parameters in a torchlet nn::Linear
/// assert_eq!(ours.weight().to_vec()?, model.weight()?.to_vec()?);
/// assert_eq!(model.bias()?.unwrap().shape(), &[2]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchLinear<T: TchElement> {
    _vs: tch::nn::VarStore,
    linear: tch::nn::Linear,
    optimizer: tch::nn::Optimizer,
    in_features: usize,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchLinear<T> {
    /// A layer initialised by libtorch from `seed` (its default init), trained with plain SGD at `lr`.
    pub fn new(in_features: usize, out_features: usize, bias: bool, lr: f64, seed: i64) -> Result<Self> {
        use tch::nn::OptimizerConfig;
        tch::manual_seed(seed);
        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let config = tch::nn::LinearConfig { bias, ..Default::default() };
        let linear = tch::nn::linear(vs.root(), in_features as i64, out_features as i64, config);
        vs.set_kind(T::KIND);
        let optimizer = tch::nn::Sgd::default().build(&vs, lr).map_err(tch_error)?;
        Ok(TchLinear { _vs: vs, linear, optimizer, in_features, _element: PhantomData })
    }

    /// A libtorch layer holding copies of the parameters of a torchlet `nn::Linear`, trained with plain
    /// SGD at `lr`.
    pub fn from_linear(linear: &Linear<T>, lr: f64) -> Result<Self> {
        let mut model = Self::new(linear.in_features(), linear.out_features(), linear.bias().is_some(), lr, 0)?;
        let _guard = tch::no_grad_guard();
        model.linear.ws.f_copy_(&to_tch(linear.weight())?).map_err(tch_error)?;
        if let (Some(ours), Some(theirs)) = (linear.bias(), model.linear.bs.as_mut()) {
            theirs.f_copy_(&to_tch(ours)?).map_err(tch_error)?;
        }
        Ok(model)
    }

    /// The current weight `[out, in]`.
    pub fn weight(&self) -> Result<Tensor<T>> {
        from_tch(&self.linear.ws.detach())
    }

    /// The current bias `[out]`, if any.
    pub fn bias(&self) -> Result<Option<Tensor<T>>> {
        self.linear.bs.as_ref().map(|b| from_tch(&b.detach())).transpose()
    }

    /// A torchlet `nn::Linear` holding copies of the current parameters: how the tutorials start all
    /// models from the same point.
    pub fn to_linear(&self) -> Result<Linear<T>> {
        Linear::from_parameters(&self.weight()?, self.bias()?.as_ref())
    }

    fn forward(&self, x: &Tensor<T>) -> Result<tch::Tensor> {
        let x = to_tch(x)?;
        // As AutodiffLinear: a 1-D batch into a one-input layer is a column of scalars.
        let one_d = x.dim() == 1 && self.in_features == 1;
        let x = if one_d { x.unsqueeze(1) } else { x };
        let y = x.f_linear(&self.linear.ws, self.linear.bs.as_ref()).map_err(tch_error)?;
        Ok(if one_d && y.size()[1] == 1 { y.squeeze_dim(1) } else { y })
    }

    fn forward_like(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<tch::Tensor> {
        let y_hat = self.forward(x)?;
        Ok(match (y_hat.size().as_slice(), y.shape()) {
            ([m, 1], [n]) if *m as usize == *n => y_hat.squeeze_dim(1),
            _ => y_hat,
        })
    }
}

impl<T: TchElement> Regressor<T> for TchLinear<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        from_tch(&self.forward(x)?.detach())
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let _guard = tch::no_grad_guard();
        let loss = self.forward_like(x, y)?.f_mse_loss(&to_tch(y)?, tch::Reduction::Mean).map_err(tch_error)?;
        from_tch::<T>(&loss)?.item()
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let y_hat = self.forward_like(x, y)?;
        let loss = y_hat.f_mse_loss(&to_tch(y)?, tch::Reduction::Mean).map_err(tch_error)?;
        self.optimizer.zero_grad();
        loss.f_backward().map_err(tch_error)?;
        self.optimizer.step();
        from_tch::<T>(&loss.detach())?.item()
    }
}

/// T4 part 1 / T5 way 2 in libtorch: raw leaf tensors, `loss.backward()`, a `no_grad` update and
/// `grad.zero_()`, the twin of [`crate::regression::TensorLinear`].
///
/// ```
/// use torchlet::libtorch::TchTensorLinear;
/// use torchlet::regression::{Regressor, TensorLinear};
/// use torchlet::Tensor;
/// let (x, y) = (Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]), Tensor::new([[50.0], [110.0]]));
/// let mut theirs = TchTensorLinear::new(&Tensor::zeros(&[1, 2]), None, 1e-3)?;
/// let mut ours = TensorLinear::new(Tensor::zeros(&[1, 2]), None, 1e-3)?;
/// for _ in 0..5 {
///     let (a, b) = (theirs.train_step(&x, &y)?, ours.train_step(&x, &y)?);
///     assert!((a - b).abs() <= 1e-12 * a.abs());
/// }
/// assert!(theirs.bias()?.is_none());
/// assert_eq!(theirs.weight()?.shape(), &[1, 2]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TchTensorLinear<T: TchElement> {
    weight: tch::Tensor,
    bias: Option<tch::Tensor>,
    lr: f64,
    _element: PhantomData<T>,
}

impl<T: TchElement> TchTensorLinear<T> {
    /// A model over copies of `weight` `[out, in]` and `bias` `[out]`.
    pub fn new(weight: &Tensor<T>, bias: Option<&Tensor<T>>, lr: f64) -> Result<Self> {
        let leaf = |t: &Tensor<T>| to_tch(t).map(|x| x.set_requires_grad(true));
        Ok(TchTensorLinear { weight: leaf(weight)?, bias: bias.map(leaf).transpose()?, lr, _element: PhantomData })
    }

    /// The current weight `[out, in]`.
    pub fn weight(&self) -> Result<Tensor<T>> {
        from_tch(&self.weight.detach())
    }

    /// The current bias, if any.
    pub fn bias(&self) -> Result<Option<Tensor<T>>> {
        self.bias.as_ref().map(|b| from_tch(&b.detach())).transpose()
    }

    fn forward(&self, x: &Tensor<T>) -> Result<tch::Tensor> {
        let xw = to_tch(x)?.f_matmul(&self.weight.tr()).map_err(tch_error)?;
        Ok(match &self.bias {
            Some(b) => xw + b,
            None => xw,
        })
    }
}

impl<T: TchElement> Regressor<T> for TchTensorLinear<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        from_tch(&self.forward(x)?.detach())
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let diff = self.forward(x)? - to_tch(y)?;
        let loss = (&diff * &diff).sum(None) / diff.numel() as f64;
        loss.f_backward().map_err(tch_error)?;
        let _guard = tch::no_grad_guard();
        for p in std::iter::once(&mut self.weight).chain(self.bias.as_mut()) {
            let mut grad = p.grad();
            let _ = p.f_sub_(&(&grad * self.lr)).map_err(tch_error)?;
            let _ = grad.f_zero_().map_err(tch_error)?;
        }
        from_tch::<T>(&loss.detach())?.item()
    }
}
