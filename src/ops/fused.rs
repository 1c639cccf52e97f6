//! Fused ops for the layers torch also runs as single kernels with one backward node: `linear`
//! (`x Wᵀ + b`, torch's addmm) and `mse_loss`. The same maths as composing the basic ops, with a graph of
//! one node instead of three or four, which is most of the cost of a small model's step.

use crate::autograd::{record, BackwardOp, Grads, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
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

struct LinearBackward<T: Element> {
    input: Saved<T>,
    weight: Saved<T>,
    has_bias: bool,
}

impl<T: Element> BackwardOp<T> for LinearBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // y = x Wᵀ + b  =>  dx = dy W, dW = dyᵀ x, db = Σ_batch dy
        let (x, w) = (self.input.get("AddmmBackward0")?, self.weight.get("AddmmBackward0")?);
        let dx = needs[0].then(|| grad.mm(w)).transpose()?;
        // dyᵀ x straight from dy's transposed layout: no view tensor needed.
        let dw = needs[1]
            .then(|| -> Result<Tensor<T>> {
                let product = super::with_storages(grad, x, |g, x_store| {
                    g.matmul(&grad.layout().transpose(0, 1), x_store, x.layout())
                })?;
                Ok(Tensor::from_storage(product, &[grad.shape()[1], x.shape()[1]]))
            })
            .transpose()?;
        let mut grads: Grads<T> = smallvec![dx, dw];
        if self.has_bias {
            grads.push(needs[2].then(|| grad.sum_dim(0, false)).transpose()?);
        }
        Ok(grads)
    }
}

/// Remembers the forward's difference `input - target`, all the backward needs.
struct MseLossBackward<T: Element> {
    diff: Tensor<T>,
    reduction: Reduction,
}

impl<T: Element> BackwardOp<T> for MseLossBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // d/dinput (input - target)² = 2 (input - target), scaled by the incoming gradient (and 1/n for mean).
        let mut scale = T::from_f64_lossy(2.0);
        if self.reduction == Reduction::Mean {
            scale = scale / T::from_usize(self.diff.numel()).unwrap_or_else(T::nan);
        }
        // torch's order, `norm * diff * grad`, on raw storage: one tensor made instead of two.
        let shape = self.diff.shape();
        let scaled = self.diff.read().unary(self.diff.layout(), UnaryOp::Mul(scale))?;
        let d_input = scaled.binary(
            &Layout::contiguous(shape),
            &grad.read(),
            &grad.layout().broadcast_to(shape),
            BinaryOp::Mul,
        )?;
        let d_input = Tensor::from_storage(d_input, shape);
        let d_target = needs[1].then(|| d_input.neg()).transpose()?;
        Ok(smallvec![needs[0].then_some(d_input), d_target])
    }
}

impl<T: Element> Tensor<T> {
    /// `self Wᵀ + b` for an input `[batch, in]` or `[in]`, weight `[out, in]` and bias `[out]`
    /// (`torch.nn.functional.linear`), recorded as one op.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// let x = Tensor::new([[1.0, 2.0]]);
    /// let (w, b) = (Tensor::new([[3.0, 4.0], [5.0, 6.0]]), Tensor::new([0.5, -0.5]));
    /// assert_eq!(x.linear(&w, Some(&b))?.to_vec()?, vec![11.5, 16.5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Result<Tensor<T>> {
        if self.rank() == 1 {
            return self.unsqueeze(0)?.linear(weight, bias)?.squeeze_dim(0);
        }
        let fits = match (self.shape(), weight.shape()) {
            ([_, i], [out, wi]) => i == wi && bias.is_none_or(|b| b.shape() == [*out]),
            _ => false,
        };
        if !fits {
            return Err(Error::shape(
                "linear",
                format!(
                    "input {:?}, weight {:?} and bias {:?} do not fit x Wᵀ + b",
                    self.shape(),
                    weight.shape(),
                    bias.map(Tensor::shape)
                ),
            ));
        }
        super::same_device("linear", self, weight)?;
        let wt = weight.layout().transpose(0, 1);
        let product = super::with_storages(self, weight, |x, w| x.matmul(self.layout(), w, &wt))?;
        let shape = [self.shape()[0], weight.shape()[0]];
        let out = match bias {
            Some(b) => {
                super::same_device("linear", self, b)?;
                let full = Layout::contiguous(&shape);
                let storage = product.binary(&full, &b.read(), &b.layout().broadcast_to(&shape), BinaryOp::Add)?;
                Tensor::from_storage(storage, &shape)
            }
            None => Tensor::from_storage(product, &shape),
        };
        let inputs: &[&Tensor<T>] = match bias {
            Some(b) => &[self, weight, b],
            None => &[self, weight],
        };
        Ok(record("AddmmBackward0", out, inputs, |_| LinearBackward {
            input: Saved::input(self),
            weight: Saved::input(weight),
            has_bias: bias.is_some(),
        }))
    }

    /// The squared error against `target` (same shape), reduced as asked (`F.mse_loss`), recorded as one op.
    ///
    /// ```
    /// use torchlet::{nn::Reduction, Tensor};
    /// let (y_hat, y) = (Tensor::new([1.0, 2.0, 4.0]), Tensor::new([1.0, 0.0, 1.0]));
    /// assert_eq!(y_hat.mse_loss(&y, Reduction::Mean)?.item()?, 13.0 / 3.0);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn mse_loss(&self, target: &Tensor<T>, reduction: Reduction) -> Result<Tensor<T>> {
        if self.shape() != target.shape() {
            return Err(Error::shape(
                "mse_loss",
                format!(
                    "input shape {:?} and target shape {:?} differ; torchlet does not broadcast a loss's operands \
                     (torch only warns), reshape one of them",
                    self.shape(),
                    target.shape()
                ),
            ));
        }
        super::same_device("mse_loss", self, target)?;
        let layout = Layout::contiguous(self.shape());
        let diff =
            super::with_storages(self, target, |a, b| a.binary(self.layout(), b, target.layout(), BinaryOp::Sub))?;
        // The intermediate squares and sum stay raw storage; only the result becomes a tensor.
        let squared = diff.unary(&layout, UnaryOp::Square)?;
        let out = match reduction {
            Reduction::None => Tensor::from_storage(squared, self.shape()),
            Reduction::Sum | Reduction::Mean => {
                let mut total = squared.sum_to(&layout, &vec![1; self.rank()])?;
                if reduction == Reduction::Mean {
                    let n = T::from_usize(self.numel()).unwrap_or_else(T::nan);
                    total = total.unary(&Layout::contiguous(&[]), UnaryOp::Div(n))?;
                }
                Tensor::from_storage(total, &[])
            }
        };
        let diff = Tensor::from_storage(diff, self.shape());
        Ok(record("MseLossBackward0", out, &[self, target], |_| MseLossBackward { diff, reduction }))
    }
}
