//! Elementwise tensor–tensor arithmetic with NumPy broadcasting. The backward of a broadcast operand sums
//! the gradient back to its shape.

use super::{same_device, with_storages};
use crate::autograd::{record, BackwardOp, Grads, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::shape::broadcast_shapes;
use crate::storage::BinaryOp;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The result of `lhs op rhs` over the broadcast shape, with no history.
fn forward<T: Element>(name: &'static str, lhs: &Tensor<T>, rhs: &Tensor<T>, op: BinaryOp) -> Result<Tensor<T>> {
    same_device(name, lhs, rhs)?;
    let shape = broadcast_shapes(name, lhs.shape(), rhs.shape())?;
    let (la, lb) = (lhs.layout().broadcast_to(&shape), rhs.layout().broadcast_to(&shape));
    let storage = with_storages(lhs, rhs, |a, b| a.binary(&la, b, &lb, op))?;
    Ok(Tensor::from_storage(storage, &shape))
}

struct AddBackward {
    shapes: [Vec<usize>; 2],
}

impl<T: Element> BackwardOp<T> for AddBackward {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let lhs = needs[0].then(|| grad.sum_to_shape(&self.shapes[0])).transpose()?;
        let rhs = needs[1].then(|| grad.sum_to_shape(&self.shapes[1])).transpose()?;
        Ok(smallvec![lhs, rhs])
    }
}

struct SubBackward {
    shapes: [Vec<usize>; 2],
}

impl<T: Element> BackwardOp<T> for SubBackward {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let lhs = needs[0].then(|| grad.sum_to_shape(&self.shapes[0])).transpose()?;
        let rhs = needs[1].then(|| grad.neg()?.sum_to_shape(&self.shapes[1])).transpose()?;
        Ok(smallvec![lhs, rhs])
    }
}

struct MulBackward<T: Element> {
    lhs: Saved<T>,
    rhs: Saved<T>,
}

impl<T: Element> BackwardOp<T> for MulBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (a, b) = (self.lhs.get("MulBackward0")?, self.rhs.get("MulBackward0")?);
        if a.id() == b.id() {
            // x * x: both edges lead to the same place, so send the whole d(x²) = 2 x dy along the first.
            let both = grad.try_mul(a)?.mul_scalar(T::from_f64_lossy(2.0))?;
            return Ok(smallvec![Some(both), None]);
        }
        let lhs = needs[0].then(|| grad.try_mul(b)?.sum_to_shape(a.shape())).transpose()?;
        let rhs = needs[1].then(|| grad.try_mul(a)?.sum_to_shape(b.shape())).transpose()?;
        Ok(smallvec![lhs, rhs])
    }
}

struct DivBackward<T: Element> {
    lhs: Saved<T>,
    rhs: Saved<T>,
}

impl<T: Element> BackwardOp<T> for DivBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (a, b) = (self.lhs.get("DivBackward0")?, self.rhs.get("DivBackward0")?);
        let lhs = needs[0].then(|| grad.try_div(b)?.sum_to_shape(a.shape())).transpose()?;
        // d(a/b)/db = -a / b^2
        let rhs =
            needs[1].then(|| grad.try_mul(a)?.try_div(&b.square()?)?.neg()?.sum_to_shape(b.shape())).transpose()?;
        Ok(smallvec![lhs, rhs])
    }
}

impl<T: Element> Tensor<T> {
    /// `self + rhs` with broadcasting (`torch.add`); `&a + &b` is the panicking form.
    pub fn try_add(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let out = forward("add", self, rhs, BinaryOp::Add)?;
        let shapes = [self.shape().to_vec(), rhs.shape().to_vec()];
        Ok(record("AddBackward0", out, &[self, rhs], |_| AddBackward { shapes }))
    }

    /// `self - rhs` with broadcasting (`torch.sub`); `&a - &b` is the panicking form.
    pub fn try_sub(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let out = forward("sub", self, rhs, BinaryOp::Sub)?;
        let shapes = [self.shape().to_vec(), rhs.shape().to_vec()];
        Ok(record("SubBackward0", out, &[self, rhs], |_| SubBackward { shapes }))
    }

    /// `self * rhs` elementwise with broadcasting (`torch.mul`); `&a * &b` is the panicking form.
    pub fn try_mul(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let out = forward("mul", self, rhs, BinaryOp::Mul)?;
        Ok(record("MulBackward0", out, &[self, rhs], |_| MulBackward {
            lhs: Saved::input(self),
            rhs: Saved::input(rhs),
        }))
    }

    /// `self / rhs` elementwise with broadcasting (`torch.div`); `&a / &b` is the panicking form.
    pub fn try_div(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let out = forward("div", self, rhs, BinaryOp::Div)?;
        Ok(record("DivBackward0", out, &[self, rhs], |_| DivBackward {
            lhs: Saved::input(self),
            rhs: Saved::input(rhs),
        }))
    }
}
