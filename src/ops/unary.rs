//! Elementwise functions of one tensor: neg, square, sqrt, exp, log, abs, powers.

use crate::autograd::{record, BackwardOp, Grads, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::storage::UnaryOp;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// `op` applied to every element, with no history.
pub(crate) fn map<T: Element>(x: &Tensor<T>, op: UnaryOp<T>) -> Result<Tensor<T>> {
    let storage = x.read().unary(x.layout(), op)?;
    Ok(Tensor::from_storage(storage, x.shape()))
}

/// The backward of each unary op, with what it saved.
enum UnaryBackward<T: Element> {
    Neg,
    /// d(x²) = 2x
    Square(Saved<T>),
    /// d(√x) = 1 / (2√x), from the saved output
    Sqrt(Saved<T>),
    /// d(eˣ) = eˣ, the saved output
    Exp(Saved<T>),
    /// d(ln x) = 1 / x
    Log(Saved<T>),
    /// d|x| = sign(x) (0 at 0, as torch)
    Abs(Saved<T>),
    /// d(xᵖ) = p xᵖ⁻¹
    Pow(Saved<T>, T),
}

impl<T: Element> BackwardOp<T> for UnaryBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = match self {
            UnaryBackward::Neg => grad.neg()?,
            UnaryBackward::Square(x) => grad.try_mul(&x.get("PowBackward0")?.mul_scalar(T::from_f64_lossy(2.0))?)?,
            UnaryBackward::Sqrt(out) => grad.try_div(&out.get("SqrtBackward0")?.mul_scalar(T::from_f64_lossy(2.0))?)?,
            UnaryBackward::Exp(out) => grad.try_mul(out.get("ExpBackward0")?)?,
            UnaryBackward::Log(x) => grad.try_div(x.get("LogBackward0")?)?,
            UnaryBackward::Abs(x) => grad.try_mul(&map(x.get("AbsBackward0")?, UnaryOp::Sign)?)?,
            UnaryBackward::Pow(x, p) => {
                let x = x.get("PowBackward0")?;
                grad.try_mul(&x.powf(*p - T::one())?.mul_scalar(*p)?)?
            }
        };
        Ok(smallvec![Some(g)])
    }
}

impl<T: Element> Tensor<T> {
    /// `-self` (`torch.neg`); `-&a` is the operator form.
    pub fn neg(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Neg)?;
        Ok(record("NegBackward0", out, &[self], |_| UnaryBackward::Neg))
    }

    /// `self * self` elementwise (`torch.square`).
    pub fn square(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Square)?;
        Ok(record("PowBackward0", out, &[self], |_| UnaryBackward::Square(Saved::input(self))))
    }

    /// Elementwise square root (`torch.sqrt`).
    pub fn sqrt(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Sqrt)?;
        Ok(record("SqrtBackward0", out, &[self], |out| UnaryBackward::Sqrt(Saved::output(out))))
    }

    /// Elementwise `e^x` (`torch.exp`).
    pub fn exp(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Exp)?;
        Ok(record("ExpBackward0", out, &[self], |out| UnaryBackward::Exp(Saved::output(out))))
    }

    /// Elementwise natural logarithm (`torch.log`).
    pub fn log(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Log)?;
        Ok(record("LogBackward0", out, &[self], |_| UnaryBackward::Log(Saved::input(self))))
    }

    /// Elementwise absolute value (`torch.abs`); its gradient at 0 is 0, as torch's.
    pub fn abs(&self) -> Result<Self> {
        let out = map(self, UnaryOp::Abs)?;
        Ok(record("AbsBackward0", out, &[self], |_| UnaryBackward::Abs(Saved::input(self))))
    }

    /// Elementwise `x^p` for a real exponent (`torch.pow(x, p)`).
    pub fn powf(&self, p: T) -> Result<Self> {
        let out = map(self, UnaryOp::Powf(p))?;
        Ok(record("PowBackward0", out, &[self], |_| UnaryBackward::Pow(Saved::input(self), p)))
    }

    /// Elementwise `x^n` for an integer exponent (`x ** n`).
    pub fn powi(&self, n: i32) -> Result<Self> {
        self.powf(T::from_i32(n).unwrap_or_else(T::nan))
    }
}
