//! The regression tutorials' models trained by libtorch: the twins of [`super::AutodiffLinear`] and
//! [`super::TensorLinear`].

use super::Regressor;
use crate::libtorch::{from_tch, tch_error, to_tch, TchElement};
use std::marker::PhantomData;
use torchlet::error::Result;
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// `nn.Linear` + `nn.MSELoss` + `optim.SGD` in libtorch (a `tch::nn::linear` in a `VarStore`), behind
/// the same [`Regressor`] interface as torchlet's models.
///
/// ```
/// use torchlet_tutorials::libtorch::TchLinear;
/// use torchlet_tutorials::regression::Regressor;
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
/// use torchlet_tutorials::libtorch::TchTensorLinear;
/// use torchlet_tutorials::regression::{Regressor, TensorLinear};
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
