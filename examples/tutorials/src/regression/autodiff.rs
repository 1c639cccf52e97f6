//! The tutorials' models built from the library's parts: `nn::Linear` + `nn::MSELoss` + `optim::SGD`,
//! with gradients from autograd.

use super::Regressor;
use torchlet::autograd::no_grad;
use torchlet::element::Element;
use torchlet::error::Result;
use torchlet::nn::{Linear, MSELoss, Module};
use torchlet::optim::{SgdConfig, SGD};
use torchlet::tensor::Tensor;

/// Linear regression as torch.nn writes it: `model = nn.Linear(..)`, `criterion = nn.MSELoss()`,
/// `optimizer = optim.SGD(model.parameters(), lr)`, and each step `zero_grad`, `backward`, `step`.
///
/// ```
/// use torchlet::nn::Linear;
/// use torchlet_tutorials::regression::{AutodiffLinear, Regressor};
/// use torchlet::Tensor;
/// let linear = Linear::from_parameters(&Tensor::<f64>::new([[0.1, 0.1]]), None)?;
/// let mut model = AutodiffLinear::new(linear, 1e-4)?;
/// let (x, y) = (Tensor::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), Tensor::new([[50.0], [110.0], [170.0]]));
/// let first = model.train_step(&x, &y)?;
/// assert!(model.train_step(&x, &y)? < first);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct AutodiffLinear<T: Element> {
    linear: Linear<T>,
    criterion: MSELoss,
    optimizer: SGD<T>,
}

impl<T: Element> AutodiffLinear<T> {
    /// Trains `linear` with plain SGD at learning rate `lr`; fails for an invalid `lr`.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::nn::Linear;
    /// use torchlet_tutorials::regression::AutodiffLinear;
    /// let linear = Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0));
    /// assert!(AutodiffLinear::new(linear, 1e-5).is_ok());
    /// ```
    pub fn new(linear: Linear<T>, lr: f64) -> Result<Self> {
        Self::with_config(linear, SgdConfig::new(lr))
    }

    /// Trains `linear` with SGD configured by `config` (momentum, weight decay, ...).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::{nn::Linear, optim::SgdConfig};
    /// use torchlet_tutorials::regression::AutodiffLinear;
    /// let linear = Linear::<f64>::with_rng(2, 1, true, &mut StdRng::seed_from_u64(0));
    /// assert!(AutodiffLinear::with_config(linear, SgdConfig::new(0.01).momentum(0.9)).is_ok());
    /// ```
    pub fn with_config(linear: Linear<T>, config: SgdConfig) -> Result<Self> {
        let optimizer = SGD::with_config(linear.parameters(), config)?;
        Ok(AutodiffLinear { linear, criterion: MSELoss::new(), optimizer })
    }

    /// The layer being trained.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use torchlet::nn::Linear;
    /// use torchlet_tutorials::regression::AutodiffLinear;
    /// let model = AutodiffLinear::new(Linear::<f32>::with_rng(3, 2, true, &mut StdRng::seed_from_u64(0)), 0.1)?;
    /// assert_eq!(model.linear().weight().shape(), &[2, 3]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn linear(&self) -> &Linear<T> {
        &self.linear
    }

    /// The prediction in the target's shape: a one-output layer gives `[m, 1]`, which the tutorials
    /// compare with 1-D targets `[m]` (torch code writes `.squeeze(1)`; here the target says when).
    fn predict_like(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<Tensor<T>> {
        let y_hat = self.predict(x)?;
        match (y_hat.shape(), y.shape()) {
            ([m, 1], [n]) if m == n => y_hat.squeeze_dim(1),
            _ => Ok(y_hat),
        }
    }
}

impl<T: Element> Regressor<T> for AutodiffLinear<T> {
    /// `linear(x)`; a 1-D `x` into a one-input layer is a batch of scalars (T1), giving `[m]` for one output.
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if x.rank() == 1 && self.linear.in_features() == 1 {
            let y_hat = self.linear.forward(&x.unsqueeze(1)?)?;
            return if self.linear.out_features() == 1 { y_hat.squeeze_dim(1) } else { Ok(y_hat) };
        }
        self.linear.forward(x)
    }

    fn evaluate(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        no_grad(|| super::mse(&self.predict_like(x, y)?, y))
    }

    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let y_hat = self.predict_like(x, y)?;
        super::manual::check_target("AutodiffLinear::train_step", &y_hat, y)?;
        let loss = self.criterion.forward(&y_hat, y)?;
        self.optimizer.zero_grad();
        loss.backward()?;
        self.optimizer.step()?;
        loss.item()
    }
}

/// Linear regression on raw tensors with autograd and no `nn` parts, as T4 part 1 and T5 way 2 write it:
/// `w` and `b` are leaves that require grad, `loss.backward()`, then under `no_grad`
/// `w -= w.grad * lr; b -= b.grad * lr` and `w.grad.zero_()`.
///
/// The weight is `[out, in]` and the model `x @ w.t() + b`, as in T4; T5's `X @ w` with `w` `[in, 1]` is
/// the same model with the weight transposed.
///
/// ```
/// use torchlet_tutorials::regression::{Regressor, TensorLinear};
/// use torchlet::Tensor;
/// let mut model = TensorLinear::new(Tensor::<f32>::zeros(&[1, 2]), None, 1e-4)?;
/// let (x, y) = (Tensor::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), Tensor::new([[50.0], [110.0], [170.0]]));
/// let first = model.train_step(&x, &y)?;
/// assert!(model.train_step(&x, &y)? < first);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct TensorLinear<T: Element> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    lr: T,
}

impl<T: Element> TensorLinear<T> {
    /// A model over copies of `weight` `[out, in]` and `bias` `[out]`, made leaves that require grad.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::TensorLinear;
    /// let w = Tensor::<f32>::zeros(&[2, 3]);
    /// let model = TensorLinear::new(w.clone(), Some(Tensor::zeros(&[2])), 1e-5)?;
    /// assert!(model.weight().requires_grad() && !w.requires_grad());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn new(weight: Tensor<T>, bias: Option<Tensor<T>>, lr: f64) -> Result<Self> {
        // Linear checks the shapes and makes the leaves; only its tensors are kept.
        let linear = Linear::from_parameters(&weight, bias.as_ref())?;
        torchlet::optim::SgdConfig::new(lr).validate()?;
        Ok(TensorLinear { weight: linear.weight().clone(), bias: linear.bias().cloned(), lr: T::from_f64_lossy(lr) })
    }

    /// The weight `[out, in]`.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::TensorLinear;
    /// let model = TensorLinear::new(Tensor::<f64>::new([[1.0, 2.0]]), None, 0.1)?;
    /// assert_eq!(model.weight().to_vec()?, vec![1.0, 2.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias `[out]`, if any.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::TensorLinear;
    /// let model = TensorLinear::new(Tensor::<f64>::new([[1.0, 2.0]]), None, 0.1)?;
    /// assert!(model.bias().is_none());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// `w -= w.grad * lr; w.grad.zero_()` for each parameter, under `no_grad`.
    fn descend(&self) -> Result<()> {
        no_grad(|| {
            for p in std::iter::once(&self.weight).chain(&self.bias) {
                if let Some(grad) = p.grad() {
                    p.sub_(&grad.mul_scalar(self.lr)?)?;
                    grad.zero_()?;
                }
            }
            Ok(())
        })
    }
}

impl<T: Element> Regressor<T> for TensorLinear<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let xw = x.matmul(&self.weight.t()?)?;
        match &self.bias {
            Some(b) => xw.add(b),
            None => Ok(xw),
        }
    }

    /// The tutorials' `mse(t1, t2) = sum(diff * diff) / diff.numel()`, backward, then the update.
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let y_hat = self.predict(x)?;
        super::manual::check_target("TensorLinear::train_step", &y_hat, y)?;
        let diff = y_hat.sub(y)?;
        let loss = diff.mul(&diff)?.sum()?.div_scalar(T::from_usize(diff.numel()).unwrap_or_else(T::nan))?;
        loss.backward()?;
        self.descend()?;
        loss.item()
    }
}
