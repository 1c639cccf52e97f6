//! Elementwise functions of one tensor (neg, exp, powers, activations, arithmetic with a scalar), each one
//! entry of the pointwise table (src/storage/pointwise/), which also names its grad_fn, recorded here. Their
//! backward is one primitive for all: `g · f'(x or y)` in one pass and one allocation.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::storage::{Saves, UnaryOp};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// `op(x, c)` of every element, with no history.
pub(crate) fn map<T: Element>(x: &Tensor<T>, op: UnaryOp, c: T) -> Result<Tensor<T>> {
    let storage = x.read().unary(x.layout(), op, c)?;
    Ok(Tensor::from_storage(storage, x.shape()))
}

/// The backward of every unary op: the op, its scalar and what it saved.
struct UnaryBackward<T: Element> {
    name: &'static str,
    op: UnaryOp,
    c: T,
    saved: Option<Saved<T>>,
}

impl<T: Element> BackwardOp<T> for UnaryBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        // `x + c` passes its gradient through untouched: no kernel, no copy.
        if matches!(self.op, UnaryOp::Add | UnaryOp::Identity) {
            return Ok(smallvec![Some(grad.clone())]);
        }
        let saved = match &self.saved {
            Some(saved) => saved.get(self.name)?,
            None => grad,
        };
        let storage = with_storages([saved, grad], |[s, g]| {
            s.unary_grad(saved.layout(), g, &grad.layout().broadcast_to(saved.shape()), self.op, self.c)
        })?;
        Ok(smallvec![Some(Tensor::from_storage(storage, saved.shape()))])
    }

    /// The same gradient as recorded tensor ops ([`super::unary_graph`]), so it can be differentiated again.
    fn backward_graph(&self, ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, _needs: &[bool]) -> Option<Result<Grads<T>>> {
        let result = (|| {
            let (x, y) = match (&self.saved, self.op.saves()) {
                (Some(saved), Saves::Input) => (Some(saved.get(self.name)?.clone()), None),
                (Some(saved), Saves::Output) => (None, Some(saved.output_in(self.name, ctx)?)),
                _ => (None, None),
            };
            let g = super::unary_graph::unary_grad(self.op, self.c, x.as_ref(), y.as_ref(), grad)?;
            Ok(smallvec![Some(g)])
        })();
        Some(result)
    }
}

impl<T: Element> Tensor<T> {
    /// `op(self, c)` elementwise, recorded under the op's grad_fn name with the op's gradient.
    pub(crate) fn pointwise(&self, op: UnaryOp, c: T) -> Result<Self> {
        let name = op.grad_fn();
        let out = map(self, op, c)?;
        Ok(record(name, out, &[self], |out| {
            let saved = match op.saves() {
                Saves::Nothing => None,
                Saves::Input => Some(Saved::input(self)),
                Saves::Output => Some(Saved::output(out)),
            };
            UnaryBackward { name, op, c, saved }
        }))
    }

    /// `-self` (`torch.neg`); `-&a` is the operator form.
    pub fn neg(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Neg, T::zero())
    }

    /// `self * self` elementwise (`torch.square`).
    pub fn square(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Square, T::zero())
    }

    /// Elementwise square root (`torch.sqrt`).
    pub fn sqrt(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Sqrt, T::zero())
    }

    /// Elementwise `e^x` (`torch.exp`).
    pub fn exp(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Exp, T::zero())
    }

    /// Elementwise natural logarithm (`torch.log`).
    pub fn log(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Log, T::zero())
    }

    /// Elementwise `ln(1 + x)` (`torch.log1p`), accurate for small `x`.
    pub fn log1p(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Log1p, T::zero())
    }

    /// Elementwise absolute value (`torch.abs`); its gradient at 0 is 0, as torch's.
    pub fn abs(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Abs, T::zero())
    }

    /// Elementwise sign (`torch.sign`): -1, 0 or 1 (NaN stays NaN); its gradient is 0.
    pub fn sign(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Sign, T::zero())
    }

    /// Elementwise `x^p` for a real exponent (`torch.pow(x, p)`); for `p = 0` the gradient is 0 everywhere.
    pub fn powf(&self, p: T) -> Result<Self> {
        self.pointwise(UnaryOp::Powf, p)
    }

    /// Elementwise `x^n` for an integer exponent (`x ** n`).
    pub fn powi(&self, n: i32) -> Result<Self> {
        self.powf(T::from_i32(n).unwrap_or_else(T::nan))
    }

    /// `max(x, 0)` elementwise (`torch.relu`); NaN stays NaN and the gradient at 0 is 0.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([-1.0, 0.0, 2.0]).requires_grad_(true)?;
    /// let y = x.relu()?;
    /// y.sum()?.backward()?;
    /// assert_eq!(y.to_vec()?, vec![0.0, 0.0, 2.0]);
    /// assert_eq!(x.grad().unwrap().to_vec()?, vec![0.0, 0.0, 1.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn relu(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Relu, T::zero())
    }

    /// `x` where positive, else `negative_slope · x` (`F.leaky_relu`; torch's default slope is 0.01).
    pub fn leaky_relu(&self, negative_slope: T) -> Result<Self> {
        self.pointwise(UnaryOp::LeakyRelu, negative_slope)
    }

    /// The logistic function `1 / (1 + e^-x)` elementwise (`torch.sigmoid`).
    pub fn sigmoid(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Sigmoid, T::zero())
    }

    /// Sine elementwise, in radians (`torch.sin`).
    ///
    /// ```
    /// let x = torchlet::Tensor::new([0.0, std::f64::consts::FRAC_PI_2]);
    /// assert_eq!(x.sin()?.to_vec()?, vec![0.0, 1.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn sin(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Sin, T::zero())
    }

    /// Cosine elementwise, in radians (`torch.cos`).
    pub fn cos(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Cos, T::zero())
    }

    /// Hyperbolic tangent elementwise (`torch.tanh`).
    pub fn tanh(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Tanh, T::zero())
    }

    /// GELU elementwise (`F.gelu`): the exact `x Φ(x)` with erf, or torch's `approximate="tanh"` form.
    pub fn gelu(&self, approximate: GeluApproximate) -> Result<Self> {
        match approximate {
            GeluApproximate::None => self.pointwise(UnaryOp::Gelu, T::zero()),
            GeluApproximate::Tanh => self.pointwise(UnaryOp::GeluTanh, T::zero()),
        }
    }

    /// SiLU (swish), `x σ(x)` elementwise (`F.silu`).
    pub fn silu(&self) -> Result<Self> {
        self.pointwise(UnaryOp::Silu, T::zero())
    }

    /// `ln(1 + e^{βx}) / β`, linear where `βx > threshold` (`F.softplus`; torch's defaults are β = 1 and
    /// threshold 20).
    pub fn softplus(&self, beta: T, threshold: T) -> Result<Self> {
        if beta == T::one() {
            return self.pointwise(UnaryOp::Softplus, threshold);
        }
        self.mul_scalar(beta)?.pointwise(UnaryOp::Softplus, threshold)?.div_scalar(beta)
    }

    /// ELU, `x` where positive else `α (e^x - 1)` (`F.elu`; torch's default α is 1).
    pub fn elu(&self, alpha: T) -> Result<Self> {
        self.pointwise(UnaryOp::Elu, alpha)
    }

    /// Each element limited to `[min, max]` (`torch.clamp`; either bound may be absent). NaN stays NaN, and
    /// the gradient passes where `min ≤ x ≤ max`, both ends included, as in torch.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([-2.0, 0.5, 3.0]);
    /// assert_eq!(x.clamp(Some(-1.0), Some(1.0))?.to_vec()?, vec![-1.0, 0.5, 1.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn clamp(&self, min: Option<T>, max: Option<T>) -> Result<Self> {
        match (min, max) {
            (Some(lo), Some(hi)) => self.clamp_min(lo)?.clamp_max(hi),
            (Some(lo), None) => self.clamp_min(lo),
            (None, Some(hi)) => self.clamp_max(hi),
            (None, None) => Err(crate::Error::invalid("clamp", "at least one of min and max must be given")),
        }
    }

    /// `max(x, min)` elementwise (`torch.clamp_min`).
    pub fn clamp_min(&self, min: T) -> Result<Self> {
        self.pointwise(UnaryOp::ClampMin, min)
    }

    /// `min(x, max)` elementwise (`torch.clamp_max`).
    pub fn clamp_max(&self, max: T) -> Result<Self> {
        self.pointwise(UnaryOp::ClampMax, max)
    }

    /// `self + c` (`&a + c` is the operator form).
    pub fn add_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::Add, c)
    }

    /// `self - c`.
    pub fn sub_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::Sub, c)
    }

    /// `c - self` (`c - &a`).
    pub fn rsub_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::RSub, c)
    }

    /// `self * c` (`&a * c`, `c * &a`).
    pub fn mul_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::Mul, c)
    }

    /// `self / c` (`&a / c`).
    pub fn div_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::Div, c)
    }

    /// `c / self` (`c / &a`).
    pub fn rdiv_scalar(&self, c: T) -> Result<Self> {
        self.pointwise(UnaryOp::RDiv, c)
    }
}

/// Which GELU [`Tensor::gelu`] computes (torch's `approximate=` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GeluApproximate {
    /// The exact `x Φ(x)`, with erf (`'none'`, the default).
    #[default]
    None,
    /// `½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (`'tanh'`).
    Tanh,
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use std::sync::Arc;

    #[test]
    fn an_op_that_saves_its_output_frees_its_node_with_the_output() {
        let x = Tensor::<f64>::new([0.5, 2.0]).requires_grad_(true).unwrap();
        for y in [x.exp().unwrap(), x.sqrt().unwrap(), x.tanh().unwrap()] {
            let node = Arc::downgrade(y.grad_fn().expect("recorded"));
            assert_eq!(y.grad_fn_name().map(|n| n.ends_with("Backward0")), Some(true));
            drop(y);
            assert!(node.upgrade().is_none(), "the saved output keeps its own node alive");
        }
    }
}
