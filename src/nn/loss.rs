//! The mean squared error loss: `F.mse_loss` and the `nn.MSELoss` module, over the fused `mse_loss` op.

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

pub use crate::ops::Reduction;

/// The mean squared error (`torch.nn.functional.mse_loss`): `(input - target)²`, reduced as asked.
///
/// `input` and `target` must have the same shape. torch broadcasts them with only a warning, which usually
/// hides a bug (a `[n, 1]` prediction against a `[n]` target gives an `[n, n]` loss); torchlet makes it an
/// error instead.
///
/// ```
/// use torchlet::nn::{functional::mse_loss, Reduction};
/// use torchlet::Tensor;
/// let (input, target) = (Tensor::new([1.0, 2.0, 4.0]), Tensor::new([1.0, 0.0, 1.0]));
/// assert_eq!(mse_loss(&input, &target, Reduction::Sum)?.item()?, 13.0);
/// assert_eq!(mse_loss(&input, &target, Reduction::None)?.to_vec()?, vec![0.0, 4.0, 9.0]);
/// let err = mse_loss(&Tensor::new([[1.0], [2.0]]), &Tensor::new([1.0, 2.0]), Reduction::Mean).unwrap_err();
/// assert!(err.to_string().starts_with("mse_loss: input shape [2, 1] and target shape [2]"));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn mse_loss<T: Element>(input: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Result<Tensor<T>> {
    input.mse_loss(target, reduction)
}

/// The mean squared error loss as a module (`torch.nn.MSELoss`), with a [`Reduction`] (mean by default).
///
/// ```
/// use torchlet::nn::{MSELoss, Reduction};
/// use torchlet::Tensor;
/// let y_hat = Tensor::new([2.0, 4.0]).requires_grad_(true)?;
/// let loss = MSELoss::new().forward(&y_hat, &Tensor::new([1.0, 1.0]))?;
/// assert_eq!(loss.item()?, 5.0);
/// loss.backward()?;
/// // d/dŷ mean((ŷ - y)²) = 2 (ŷ - y) / n
/// assert_eq!(y_hat.grad().unwrap().to_vec()?, vec![1.0, 3.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MSELoss {
    reduction: Reduction,
}

impl MSELoss {
    /// The loss with mean reduction (`nn.MSELoss()`).
    ///
    /// ```
    /// assert_eq!(torchlet::nn::MSELoss::new().reduction(), torchlet::nn::Reduction::Mean);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The loss with the given reduction (`nn.MSELoss(reduction=...)`).
    ///
    /// ```
    /// use torchlet::nn::{MSELoss, Reduction};
    /// use torchlet::Tensor;
    /// let loss = MSELoss::with_reduction(Reduction::Sum).forward(&Tensor::new([1.0, 2.0]), &Tensor::new([0.0, 0.0]))?;
    /// assert_eq!(loss.item()?, 5.0);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn with_reduction(reduction: Reduction) -> Self {
        MSELoss { reduction }
    }

    /// The reduction this loss applies.
    ///
    /// ```
    /// use torchlet::nn::{MSELoss, Reduction};
    /// assert_eq!(MSELoss::with_reduction(Reduction::None).reduction(), Reduction::None);
    /// ```
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The loss of `input` against `target` (`loss_fn(input, target)`); see [`mse_loss`].
    ///
    /// ```
    /// use torchlet::{nn::MSELoss, Tensor};
    /// let loss = MSELoss::new().forward(&Tensor::new([[1.0, 3.0]]), &Tensor::new([[1.0, 1.0]]))?;
    /// assert_eq!(loss.item()?, 2.0);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn forward<T: Element>(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        mse_loss(input, target, self.reduction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_gradient_is_twice_the_difference() {
        let y_hat = Tensor::new([[1.0, -2.0], [0.5, 3.0]]).requires_grad_(true).unwrap();
        let y = Tensor::new([[0.0, 1.0], [0.5, 1.0]]);
        MSELoss::with_reduction(Reduction::Sum).forward(&y_hat, &y).unwrap().backward().unwrap();
        assert_eq!(y_hat.grad().unwrap().to_vec().unwrap(), vec![2.0, -6.0, 0.0, 4.0]);
    }

    #[test]
    fn none_keeps_the_shape_and_mean_of_empty_is_nan() {
        let l = mse_loss(&Tensor::<f32>::ones(&[2, 3]), &Tensor::zeros(&[2, 3]), Reduction::None).unwrap();
        assert_eq!(l.shape(), &[2, 3]);
        let empty = mse_loss(&Tensor::<f64>::zeros(&[0]), &Tensor::zeros(&[0]), Reduction::Mean).unwrap();
        assert!(empty.item().unwrap().is_nan());
    }
}
