//! The tutorials' scratch models: linear regression with hand-derived gradients, no autograd.
//!
//! One model covers every tutorial variant, since they share one formula: with `ŷ = x W + b` and the mean
//! squared error over the `n` entries of `y`, `δ = 2 (ŷ - y) / n`, `∂L/∂b = Σ δ` (over the batch) and
//! `∂L/∂W = xᵀ δ` (a dot product when `x` is 1-D). The shapes are the tutorials' own:
//!
//! | tutorial | x | W | b |
//! |---|---|---|---|
//! | T1 simple | `[m]` | `[1]` | `[1]` |
//! | T2 multivariate | `[m, f]` | `[f]` | `[1]` |
//! | T3/T4 multi-output | `[m, f]` | `[f, t]` (transposed relative to `nn.Linear.weight`) | `[t]` |
//! | T5 way 1 | `[m, f]` | `[f, 1]` | none |

use super::Regressor;
use rand::Rng;
use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::nn::Linear;
use torchlet::tensor::Tensor;

/// Linear regression trained with the analytic gradient of the MSE (the tutorials' "from scratch" models).
///
/// Its tensors never require grad, so no autograd graph is built.
///
/// ```
/// use torchlet_tutorials::regression::{ManualLinear, Regressor};
/// use torchlet::Tensor;
/// // T5 way 1: y = X w, no bias, from w = [0.1, 0.1].
/// let x = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// let y = Tensor::new([[50.0], [110.0], [170.0]]);
/// let mut model = ManualLinear::from_parameters(Tensor::new([[0.1], [0.1]]), None, 1e-4)?;
/// let first = model.train_step(&x, &y)?;
/// let second = model.train_step(&x, &y)?;
/// assert!(second < first);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ManualLinear<T: Element> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    lr: T,
}

impl<T: Element> ManualLinear<T> {
    /// T1's model `ŷ = b + w x` with scalar `w` and `b` (shape `[1]`) drawn from N(0, 1), trained with
    /// learning rate `lr`.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet_tutorials::regression::ManualLinear::<f64>::simple(0.01, &mut StdRng::seed_from_u64(0))?;
    /// assert_eq!((model.weight().shape(), model.bias().unwrap().shape()), (&[1][..], &[1][..]));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn simple<R: Rng + ?Sized>(lr: f64, rng: &mut R) -> Result<Self> {
        Self::from_parameters(Tensor::randn_with(&[1], rng), Some(Tensor::randn_with(&[1], rng)), lr)
    }

    /// T2's model `ŷ = X w + b`, `w` of shape `[n_features]`, drawn from N(0, 1).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet_tutorials::regression::ManualLinear::<f64>::multivariate(4, 0.01, &mut StdRng::seed_from_u64(0))?;
    /// assert_eq!(model.weight().shape(), &[4]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn multivariate<R: Rng + ?Sized>(n_features: usize, lr: f64, rng: &mut R) -> Result<Self> {
        Self::from_parameters(Tensor::randn_with(&[n_features], rng), Some(Tensor::randn_with(&[1], rng)), lr)
    }

    /// T3's dense layer `Ŷ = X W + b`, `W` of shape `[n_features, n_targets]`, drawn from N(0, 1).
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = torchlet_tutorials::regression::ManualLinear::<f32>::multi_output(5, 3, 0.01, &mut StdRng::seed_from_u64(0))?;
    /// assert_eq!((model.weight().shape(), model.bias().unwrap().shape()), (&[5, 3][..], &[3][..]));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn multi_output<R: Rng + ?Sized>(n_features: usize, n_targets: usize, lr: f64, rng: &mut R) -> Result<Self> {
        let weight = Tensor::randn_with(&[n_features, n_targets], rng);
        Self::from_parameters(weight, Some(Tensor::randn_with(&[n_targets], rng)), lr)
    }

    /// A model with the given parameters, in the tutorial shapes of the module docs, trained with
    /// learning rate `lr`. The parameters are copied, so training leaves the arguments untouched.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::ManualLinear;
    /// assert!(ManualLinear::from_parameters(Tensor::<f64>::zeros(&[2, 1]), None, 1e-4).is_ok());
    /// let err = ManualLinear::from_parameters(Tensor::<f64>::zeros(&[2, 3]), Some(Tensor::zeros(&[2])), 1e-4);
    /// assert!(err.unwrap_err().to_string().contains("bias of shape [2] does not fit weight of shape [2, 3]"));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn from_parameters(weight: Tensor<T>, bias: Option<Tensor<T>>, lr: f64) -> Result<Self> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid(
                "ManualLinear",
                format!("invalid learning rate: {lr} (must be finite and >= 0)"),
            ));
        }
        let outputs = match weight.shape() {
            [_] => 1,
            [_, t] => *t,
            shape => return Err(Error::shape("ManualLinear", format!("weight must be 1-D or 2-D, got {shape:?}"))),
        };
        if let Some(b) = &bias {
            if b.shape() != [outputs] {
                return Err(Error::shape(
                    "ManualLinear",
                    format!("bias of shape {:?} does not fit weight of shape {:?}", b.shape(), weight.shape()),
                ));
            }
        }
        let own = |t: &Tensor<T>| t.detach().deep_clone();
        Ok(ManualLinear { weight: own(&weight)?, bias: bias.as_ref().map(own).transpose()?, lr: T::from_f64_lossy(lr) })
    }

    /// A copy of this model with its parameters on `device`.
    ///
    /// ```
    /// use torchlet::{Device, Tensor};
    /// use torchlet_tutorials::regression::ManualLinear;
    /// let model = ManualLinear::from_parameters(Tensor::<f64>::new([1.0]), Some(Tensor::new([0.0])), 0.1)?;
    /// assert_eq!(model.to(Device::Cpu)?.weight().device(), Device::Cpu);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: torchlet::Device) -> Result<Self> {
        let bias = self.bias.as_ref().map(|b| b.to(device)).transpose()?;
        let lr = self.lr.to_f64().unwrap_or(f64::NAN);
        Self::from_parameters(self.weight.to(device)?, bias, lr)
    }

    /// The weight, in the tutorial's shape.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::ManualLinear;
    /// let model = ManualLinear::from_parameters(Tensor::<f64>::new([[0.1], [0.1]]), None, 1e-4)?;
    /// assert_eq!(model.weight().shape(), &[2, 1]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias, if the model has one.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::ManualLinear;
    /// let model = ManualLinear::from_parameters(Tensor::<f64>::new([1.0]), Some(Tensor::new([0.5])), 1e-4)?;
    /// assert_eq!(model.bias().unwrap().to_vec()?, vec![0.5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// Copies the parameters of an `nn::Linear` (weight `[out, in]`, bias `[out]`) into this model's
    /// shapes, as the tutorials do to start both models from the same point.
    ///
    /// ```
    /// use torchlet::{nn::Linear, Tensor};
    /// use torchlet_tutorials::regression::ManualLinear;
    /// let linear = Linear::from_parameters(&Tensor::<f64>::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), None)?;
    /// let mut model = ManualLinear::from_parameters(Tensor::zeros(&[3, 2]), None, 0.1)?;
    /// model.copy_from_linear(&linear)?;
    /// assert_eq!(model.weight().to_vec2()?, vec![vec![1.0, 4.0], vec![2.0, 5.0], vec![3.0, 6.0]]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn copy_from_linear(&mut self, linear: &Linear<T>) -> Result<()> {
        const OP: &str = "ManualLinear::copy_from_linear";
        let weight = linear.weight().detach().t()?;
        if weight.numel() != self.weight.numel() || (weight.shape()[1] == 1) != (self.outputs() == 1) {
            return Err(Error::shape(
                OP,
                format!("Linear weight {:?} does not fit weight {:?}", linear.weight().shape(), self.weight.shape()),
            ));
        }
        let weight = weight.deep_clone()?.reshape(self.weight.shape())?;
        let bias = match (linear.bias(), &self.bias) {
            (Some(b), Some(_)) => Some(b.detach()),
            (None, None) => None,
            _ => return Err(Error::shape(OP, "one model has a bias and the other has none")),
        };
        let lr = self.lr.to_f64().unwrap_or(f64::NAN);
        *self = Self::from_parameters(weight, bias, lr)?;
        Ok(())
    }

    fn outputs(&self) -> usize {
        self.weight.shape().get(1).copied().unwrap_or(1)
    }

    /// `(∂L/∂W, ∂L/∂b)` of the MSE at `(x, y)`, from the analytic formula.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// use torchlet_tutorials::regression::ManualLinear;
    /// let model = ManualLinear::from_parameters(Tensor::<f64>::new([[0.0]]), Some(Tensor::new([0.0])), 0.1)?;
    /// let (dw, db) = model.gradients(&Tensor::new([[1.0], [3.0]]), &Tensor::new([[2.0], [4.0]]))?;
    /// // δ = 2 (ŷ - y) / n = [-2, -4]; ∂W = xᵀ δ = -14, ∂b = Σ δ = -6
    /// assert_eq!((dw.to_vec()?, db.unwrap().to_vec()?), (vec![-14.0], vec![-6.0]));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn gradients(&self, x: &Tensor<T>, y: &Tensor<T>) -> Result<(Tensor<T>, Option<Tensor<T>>)> {
        self.gradients_at(x, &self.predict(x)?, y)
    }

    fn gradients_at(&self, x: &Tensor<T>, y_hat: &Tensor<T>, y: &Tensor<T>) -> Result<(Tensor<T>, Option<Tensor<T>>)> {
        check_target("ManualLinear::gradients", y_hat, y)?;
        let n = T::from_usize(y.numel()).unwrap_or_else(T::nan);
        let delta = y_hat.sub(y)?.mul_scalar(T::from_f64_lossy(2.0))?.div_scalar(n)?;
        let weight_grad = match x.rank() {
            1 => delta.matmul(x)?.reshape(self.weight.shape())?,
            _ => x.t()?.matmul(&delta)?,
        };
        let bias_grad = match &self.bias {
            Some(_) if self.weight.rank() == 2 && delta.rank() == 2 => Some(delta.sum_dim(0, false)?),
            Some(_) => Some(delta.sum()?.reshape(&[1])?),
            None => None,
        };
        Ok((weight_grad, bias_grad))
    }
}

/// Fails unless prediction and target have the same shape: broadcasting them would silently compute
/// something else than the tutorial's loss.
pub(crate) fn check_target<T: Element>(op: &'static str, y_hat: &Tensor<T>, y: &Tensor<T>) -> Result<()> {
    if y_hat.shape() != y.shape() {
        return Err(Error::shape(
            op,
            format!("prediction of shape {:?} and target of shape {:?} differ", y_hat.shape(), y.shape()),
        ));
    }
    Ok(())
}

impl<T: Element> Regressor<T> for ManualLinear<T> {
    fn predict(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let xw = match x.rank() {
            1 => x.mul(&self.weight)?,
            _ => x.matmul(&self.weight)?,
        };
        match &self.bias {
            Some(b) => xw.add(b),
            None => Ok(xw),
        }
    }

    /// One gradient-descent step on the batch: `W -= lr ∂L/∂W`, `b -= lr ∂L/∂b`. Returns the batch's loss
    /// before the step.
    fn train_step(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<T> {
        let y_hat = self.predict(x)?;
        let loss = super::mse(&y_hat, y)?;
        let (weight_grad, bias_grad) = self.gradients_at(x, &y_hat, y)?;
        self.weight.sub_(&weight_grad.mul_scalar(self.lr)?)?;
        if let (Some(b), Some(g)) = (&self.bias, bias_grad) {
            b.sub_(&g.mul_scalar(self.lr)?)?;
        }
        Ok(loss)
    }
}
