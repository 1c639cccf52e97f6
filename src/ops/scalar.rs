//! Arithmetic between a tensor and a scalar, on either side.

use super::unary::map;
use crate::autograd::{record, BackwardOp, Grads, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::storage::UnaryOp;
use crate::tensor::Tensor;
use smallvec::smallvec;

enum ScalarBackward<T: Element> {
    /// `x + c`: the gradient passes through.
    Add,
    /// `c - x`
    RSub,
    /// `x * c`
    Mul(T),
    /// `x / c`
    Div(T),
    /// `c / x`: d/dx = -c / x²
    RDiv(Saved<T>, T),
}

impl<T: Element> BackwardOp<T> for ScalarBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = match self {
            ScalarBackward::Add => grad.clone(),
            ScalarBackward::RSub => grad.neg()?,
            ScalarBackward::Mul(c) => grad.mul_scalar(*c)?,
            ScalarBackward::Div(c) => grad.div_scalar(*c)?,
            ScalarBackward::RDiv(x, c) => {
                let x = x.get("DivBackward0")?;
                grad.try_div(&x.square()?)?.mul_scalar(-*c)?
            }
        };
        Ok(smallvec![Some(g)])
    }
}

impl<T: Element> Tensor<T> {
    /// `self + c` (`&a + c` is the operator form).
    pub fn add_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::Add(c))?;
        Ok(record("AddBackward0", out, &[self], |_| ScalarBackward::Add))
    }

    /// `self - c`.
    pub fn sub_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::Add(-c))?;
        Ok(record("SubBackward0", out, &[self], |_| ScalarBackward::Add))
    }

    /// `c - self` (`c - &a`).
    pub fn rsub_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::RSub(c))?;
        Ok(record("RsubBackward1", out, &[self], |_| ScalarBackward::RSub))
    }

    /// `self * c` (`&a * c`, `c * &a`).
    pub fn mul_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::Mul(c))?;
        Ok(record("MulBackward0", out, &[self], |_| ScalarBackward::Mul(c)))
    }

    /// `self / c` (`&a / c`).
    pub fn div_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::Div(c))?;
        Ok(record("DivBackward0", out, &[self], |_| ScalarBackward::Div(c)))
    }

    /// `c / self` (`c / &a`).
    pub fn rdiv_scalar(&self, c: T) -> Result<Self> {
        let out = map(self, UnaryOp::RDiv(c))?;
        Ok(record("DivBackward0", out, &[self], |_| ScalarBackward::RDiv(Saved::input(self), c)))
    }
}
