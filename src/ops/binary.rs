//! Elementwise tensor–tensor ops with NumPy broadcasting, each one entry of the pointwise table
//! (src/storage/pointwise/). The backward of a broadcast operand sums the gradient back to its shape.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::device::Device;
use crate::element::Element;
use crate::error::Result;
use crate::shape::{broadcast_shapes, Dims};
use crate::storage::{BinaryOp, Recorded, Side};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The result of `lhs op rhs` over the broadcast shape, with no history.
fn forward<T: Element>(name: &'static str, lhs: &Tensor<T>, rhs: &Tensor<T>, op: BinaryOp) -> Result<Tensor<T>> {
    let shape = broadcast_shapes(name, lhs.shape(), rhs.shape())?;
    let (la, lb) = (lhs.layout().broadcast_to(&shape), rhs.layout().broadcast_to(&shape));
    let storage = with_storages([lhs, rhs], |[a, b]| a.binary(&la, b, &lb, op))?;
    Ok(Tensor::from_storage(storage, &shape))
}

/// `a ± b` ([`Recorded::Sum`]): the gradient (negated for the rhs of a difference) summed back to each
/// operand's shape; nothing is saved.
struct AddSubBackward {
    shapes: [Dims; 2],
    rhs_negated: bool,
}

impl<T: Element> BackwardOp<T> for AddSubBackward {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let lhs = needs[0].then(|| grad.sum_to_shape(&self.shapes[0])).transpose()?;
        let rhs = needs[1]
            .then(|| {
                if self.rhs_negated {
                    grad.neg()?.sum_to_shape(&self.shapes[1])
                } else {
                    grad.sum_to_shape(&self.shapes[1])
                }
            })
            .transpose()?;
        Ok(smallvec![lhs, rhs])
    }

    /// `neg` and `sum_to_shape` are recorded when grad mode is on: the same code builds the graph.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

/// Every other differentiable binary op: both operands saved, each gradient one `binary_grad` pass.
struct PointwiseBackward<T: Element> {
    name: &'static str,
    op: BinaryOp,
    lhs: Saved<T>,
    rhs: Saved<T>,
}

impl<T: Element> BackwardOp<T> for PointwiseBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (a, b) = (self.lhs.get(self.name)?, self.rhs.get(self.name)?);
        let shape = grad.shape();
        let (la, lb) = (a.layout().broadcast_to(shape), b.layout().broadcast_to(shape));
        let side_grad = |side: Side| -> Result<Tensor<T>> {
            let storage = with_storages([a, b, grad], |[sa, sb, g]| {
                sa.binary_grad(&la, sb, &lb, g, grad.layout(), self.op, side)
            })?;
            Ok(Tensor::from_storage(storage, shape))
        };
        if a.id() == b.id() {
            // `x op x`: both edges lead to the same place, so send the sum of both gradients along the first.
            let lhs = side_grad(Side::Lhs)?;
            if self.op == BinaryOp::Mul {
                // d(x·x) = g·x + g·x: the two halves are equal, so double the first in place (exact).
                lhs.write().map_inplace(lhs.layout(), crate::storage::UnaryOp::Mul, T::from_f64_lossy(2.0))?;
            } else {
                lhs.add_assign_untracked(&side_grad(Side::Rhs)?)?;
            }
            return Ok(smallvec![Some(lhs), None]);
        }
        let lhs = needs[0].then(|| side_grad(Side::Lhs)?.sum_to_shape(a.shape())).transpose()?;
        let rhs = needs[1].then(|| side_grad(Side::Rhs)?.sum_to_shape(b.shape())).transpose()?;
        Ok(smallvec![lhs, rhs])
    }

    /// Each side's gradient as recorded tensor ops, in the table's order of operations. For `x op x` both
    /// are returned along their edges, and the engine adds them (recorded too).
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let (a, b) = (self.lhs.get(self.name)?, self.rhs.get(self.name)?);
            let side_grad = |side: Side| -> Result<Tensor<T>> {
                let zero = || Tensor::full_on(&[], T::zero(), grad.device());
                // maximum / minimum: the side that lost gets 0, a tie half of g; the masks are constants.
                let unless = |lost: Tensor<T>| -> Result<Tensor<T>> {
                    let tie = a.eq(b)?;
                    super::where_(
                        &lost,
                        &zero()?,
                        &super::where_(&tie, &grad.div_scalar(T::from_f64_lossy(2.0))?, grad)?,
                    )
                };
                match (self.op, side) {
                    (BinaryOp::Mul, Side::Lhs) => grad.mul(b),
                    (BinaryOp::Mul, Side::Rhs) => grad.mul(a),
                    (BinaryOp::Div, Side::Lhs) => grad.div(b),
                    (BinaryOp::Div, Side::Rhs) => grad.neg()?.mul(&a.div(b)?.div(b)?),
                    (BinaryOp::Maximum, Side::Lhs) | (BinaryOp::Minimum, Side::Rhs) => unless(a.lt(b)?),
                    (BinaryOp::Maximum, Side::Rhs) | (BinaryOp::Minimum, Side::Lhs) => unless(a.gt(b)?),
                    (op, _) => {
                        Err(crate::Error::autograd(self.name, format!("{} has no pointwise gradient", op.name())))
                    }
                }
            };
            let lhs = needs[0].then(|| side_grad(Side::Lhs)?.sum_to_shape(a.shape())).transpose()?;
            let rhs = needs[1].then(|| side_grad(Side::Rhs)?.sum_to_shape(b.shape())).transpose()?;
            Ok(smallvec![lhs, rhs])
        })())
    }
}

/// Whether `t` is a 0-D tensor on the CPU, which torch lets meet a tensor on any device, as a scalar would.
pub(crate) fn is_cpu_scalar<T: Element>(t: &Tensor<T>) -> bool {
    t.rank() == 0 && t.device() == Device::Cpu
}

/// Runs `f` on `lhs` and `rhs` brought to one device by torch's one exception to "same device": a 0-D CPU
/// operand meets a tensor elsewhere as a scalar, copied to that device with `to`, so its gradient travels
/// back to the CPU. Any other mix reaches `f` as it is, for the storage's device check to refuse.
fn on_one_device<T: Element, R>(
    lhs: &Tensor<T>,
    rhs: &Tensor<T>,
    f: impl FnOnce(&Tensor<T>, &Tensor<T>) -> Result<R>,
) -> Result<R> {
    if lhs.device() == rhs.device() {
        f(lhs, rhs)
    } else if is_cpu_scalar(lhs) {
        f(&lhs.to(rhs.device())?, rhs)
    } else if is_cpu_scalar(rhs) {
        f(lhs, &rhs.to(lhs.device())?)
    } else {
        f(lhs, rhs)
    }
}

impl<T: Element> Tensor<T> {
    /// `lhs op rhs` with broadcasting, recorded as the op table says ([`BinaryOp::recorded`]).
    fn binary(&self, rhs: &Tensor<T>, op: BinaryOp) -> Result<Self> {
        on_one_device(self, rhs, |lhs, rhs| {
            let out = forward(op.name(), lhs, rhs, op)?;
            Ok(match op.recorded() {
                Recorded::Sum(grad_fn) => {
                    let shapes = [Dims::from_slice(lhs.shape()), Dims::from_slice(rhs.shape())];
                    let rhs_negated = op == BinaryOp::Sub;
                    record(grad_fn, out, &[lhs, rhs], |_| AddSubBackward { shapes, rhs_negated })
                }
                Recorded::Pointwise(grad_fn) => record(grad_fn, out, &[lhs, rhs], |_| PointwiseBackward {
                    name: grad_fn,
                    op,
                    lhs: Saved::input(lhs),
                    rhs: Saved::input(rhs),
                }),
                Recorded::Not => out,
            })
        })
    }

    /// `self + rhs` with broadcasting (`torch.add`); `&a + &b` is the panicking form. As in torch, a 0-D CPU
    /// tensor may meet a tensor on another device (as a scalar; the same for every binary op).
    pub fn add(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Add)
    }

    /// `self - rhs` with broadcasting (`torch.sub`); `&a - &b` is the panicking form.
    pub fn sub(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Sub)
    }

    /// `self * rhs` elementwise with broadcasting (`torch.mul`); `&a * &b` is the panicking form.
    pub fn mul(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Mul)
    }

    /// `self / rhs` elementwise with broadcasting (`torch.div`); `&a / &b` is the panicking form.
    pub fn div(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Div)
    }

    /// The larger of each pair of elements, with broadcasting (`torch.maximum`); NaN if either is NaN, and a
    /// tie sends half the gradient to each side, as torch.
    pub fn maximum(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Maximum)
    }

    /// The smaller of each pair of elements, with broadcasting (`torch.minimum`).
    pub fn minimum(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Minimum)
    }

    /// `1` where `self == rhs`, else `0`, with broadcasting (`torch.eq`). Comparisons return a tensor of the
    /// same element type holding 0 and 1 (torch returns `bool`), with no gradient; use it as a mask with
    /// [`where_`](crate::where_) or multiply by it.
    ///
    /// ```
    /// let (a, b) = (torchlet::Tensor::new([1.0, 2.0, 3.0]), torchlet::Tensor::new([1.0, 0.0, 3.0]));
    /// assert_eq!(a.eq(&b)?.to_vec()?, vec![1.0, 0.0, 1.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn eq(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Eq)
    }

    /// `1` where `self != rhs` (NaN included), else `0` (`torch.ne`).
    pub fn ne(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Ne)
    }

    /// `1` where `self < rhs`, else `0` (`torch.lt`).
    pub fn lt(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Lt)
    }

    /// `1` where `self <= rhs`, else `0` (`torch.le`).
    pub fn le(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Le)
    }

    /// `1` where `self > rhs`, else `0` (`torch.gt`).
    pub fn gt(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Gt)
    }

    /// `1` where `self >= rhs`, else `0` (`torch.ge`).
    pub fn ge(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.binary(rhs, BinaryOp::Ge)
    }
}
