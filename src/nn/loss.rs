//! The mean squared error loss: `F.mse_loss` as one recorded op with its backward, and the `nn.MSELoss`
//! module over it.

use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::with_storages;
use crate::shape::Layout;
use crate::storage::{BinaryOp, UnaryOp};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// How a loss reduces its elementwise values (torch's `reduction=` argument).
///
/// ```
/// use torchlet::nn::Reduction;
/// assert_eq!(Reduction::default(), Reduction::Mean);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// No reduction: the elementwise losses, with the input's shape (`'none'`).
    None,
    /// The mean over all elements, a 0-D tensor (`'mean'`, the default).
    #[default]
    Mean,
    /// The sum over all elements, a 0-D tensor (`'sum'`).
    Sum,
}

/// `loss` reduced as asked.
pub(crate) fn reduce<T: Element>(loss: Tensor<T>, reduction: Reduction) -> Result<Tensor<T>> {
    match reduction {
        Reduction::None => Ok(loss),
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
    }
}

/// Fails unless `input` and `target` have one shape: torch only warns when a loss broadcasts its operands,
/// which usually hides a bug (a `[n, 1]` prediction against a `[n]` target gives an `[n, n]` loss).
pub(crate) fn check_same_shape<T: Element>(op: &'static str, input: &Tensor<T>, target: &Tensor<T>) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::shape(
            op,
            format!(
                "input shape {:?} and target shape {:?} differ; torchlet does not broadcast a loss's operands \
                 (torch only warns), reshape one of them",
                input.shape(),
                target.shape()
            ),
        ));
    }
    Ok(())
}

/// Keeps the forward's difference `input - target`, all the backward needs, and the inputs' versions, so an
/// in-place change of either after the forward is caught as torch catches it.
struct MseLossBackward<T: Element> {
    diff: Tensor<T>,
    input: Saved<T>,
    target: Saved<T>,
    reduction: Reduction,
}

impl<T: Element> MseLossBackward<T> {
    /// The factor of `diff` in the input's gradient: 2, over n for the mean.
    fn scale(&self) -> T {
        let two = T::from_f64_lossy(2.0);
        match self.reduction {
            Reduction::Mean => two / T::from_usize(self.diff.numel()).unwrap_or_else(T::nan),
            _ => two,
        }
    }

    /// The gradients from `d_input` = `scale · diff` (a contiguous buffer of the input's shape, owned here):
    /// times the incoming gradient, in torch's order `norm * diff * grad`, and negated for the target.
    fn finish(&self, d_input: Tensor<T>, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let shape = d_input.shape();
        let d_input = if grad.numel() == 1 {
            // A reduced loss: its gradient is one number, applied in place (and not at all when it is 1).
            let g = grad.item()?;
            if g != T::one() {
                d_input.write().map_inplace(d_input.layout(), UnaryOp::Mul, g)?;
            }
            d_input
        } else {
            let product = with_storages([&d_input, grad], |[d, g]| {
                d.binary(d_input.layout(), g, &grad.layout().broadcast_to(shape), BinaryOp::Mul)
            })?;
            Tensor::from_storage(product, shape)
        };
        let d_target = needs[1].then(|| d_input.neg()).transpose()?;
        Ok(smallvec![needs[0].then_some(d_input), d_target])
    }

    fn check_versions(&self) -> Result<()> {
        self.input.get("MseLossBackward0")?;
        self.target.get("MseLossBackward0")?;
        Ok(())
    }
}

impl<T: Element> BackwardOp<T> for MseLossBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        self.check_versions()?;
        // d/dinput (input - target)² = 2 (input - target), scaled by the incoming gradient (and 1/n for mean).
        let scaled = self.diff.read().unary(self.diff.layout(), UnaryOp::Mul, self.scale())?;
        self.finish(Tensor::from_storage(scaled, self.diff.shape()), grad, needs)
    }

    /// The last use of the difference: the gradient is written over it, with no new buffer.
    fn backward_once(self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if !self.diff.is_sole_owner() {
            return self.backward(grad, needs);
        }
        self.check_versions()?;
        self.diff.write().map_inplace(self.diff.layout(), UnaryOp::Mul, self.scale())?;
        self.finish(self.diff.clone(), grad, needs)
    }

    /// torch's `norm · (input − target) · grad` as recorded ops of the saved operands (not of the saved
    /// difference, which has no history), negated for the target.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let (x, y) = (self.input.get("MseLossBackward0")?, self.target.get("MseLossBackward0")?);
            let d_input = x.sub(y)?.mul_scalar(self.scale())?.mul(grad)?;
            let d_target = needs[1].then(|| d_input.neg()).transpose()?;
            Ok(smallvec![needs[0].then_some(d_input), d_target])
        })())
    }
}

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
    check_same_shape("mse_loss", input, target)?;
    let (diff, out) = match reduction {
        Reduction::None => {
            let diff =
                with_storages([input, target], |[a, b]| a.binary(input.layout(), b, target.layout(), BinaryOp::Sub))?;
            let squared = diff.unary(&Layout::contiguous(input.shape()), UnaryOp::Square, T::zero())?;
            (diff, Tensor::from_storage(squared, input.shape()))
        }
        Reduction::Sum | Reduction::Mean => {
            // One pass for the difference and its summed squares; the 1/n of the mean in place.
            let (diff, mut total) =
                with_storages([input, target], |[a, b]| a.sub_square_sum(input.layout(), b, target.layout()))?;
            if reduction == Reduction::Mean {
                let n = T::from_usize(input.numel()).unwrap_or_else(T::nan);
                total.map_inplace(&Layout::contiguous(&[]), UnaryOp::Div, n)?;
            }
            (diff, Tensor::from_storage(total, &[]))
        }
    };
    let diff = Tensor::from_storage(diff, input.shape());
    Ok(record("MseLossBackward0", out, &[input, target], |_| MseLossBackward {
        diff,
        input: Saved::input(input),
        target: Saved::input(target),
        reduction,
    }))
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
