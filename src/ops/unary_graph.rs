//! The gradients of the pointwise table's unary ops as recorded tensor ops, for a backward that builds a
//! graph (`create_graph`): each entry's `g · f'` written with the tensor ops themselves, in the table's order
//! of operations (so the values agree with the fused kernel's), so that autograd can differentiate it again.
//!
//! An op that saved its output (`exp`, `sqrt`, `sigmoid`, `tanh`) reads it joined to its own node again
//! ([`Saved::output_in`]), as torch unpacks a saved output with its grad_fn: the second derivative goes
//! through that node to the input, with nothing recomputed and nothing more saved in the forward.
//!
//! Kinks keep torch's values: where a derivative is a mask (relu, clamp, leaky relu) or a sign (abs), the
//! mask is a constant, so the second derivative is 0 everywhere, as torch's formulas give; where torch's
//! double backward masks a smooth branch strictly (`x < 0` for elu, `βx < threshold` for softplus), so does
//! this. As in torch, relu's and leaky relu's gradients stay ops of the input (`threshold_backward`,
//! `leaky_relu_backward`), with a zero derivative for it, so a second derivative through them is a defined 0,
//! not an unused input. Where a branch not taken could overflow (softplus above its threshold, elu for large
//! x), its input is replaced by 0 there first, so that no `0 · ∞` reaches a higher derivative.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::ops::where_;
use crate::storage::UnaryOp;
use crate::tensor::Tensor;
use smallvec::smallvec;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// The tanh-GELU's constants, as the table's.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_KAPPA: f64 = 0.044715;

fn k<T: Element>(v: f64) -> T {
    T::from_f64_lossy(v)
}

fn scalar<T: Element>(value: T, like: &Tensor<T>) -> Result<Tensor<T>> {
    Tensor::full_on(&[], value, like.device())
}

/// `g · f'(x)` for `op` with scalar `c`, as recorded tensor ops. `x` is the saved input (for the ops that
/// save it) and `y` the saved output joined to its node (for those that save that).
pub(super) fn unary_grad<T: Element>(
    op: UnaryOp,
    c: T,
    x: Option<&Tensor<T>>,
    y: Option<&Tensor<T>>,
    g: &Tensor<T>,
) -> Result<Tensor<T>> {
    let input = || x.expect("the op saved its input");
    let output = || y.expect("the op saved its output");
    let zero = || scalar(T::zero(), g);
    match op {
        UnaryOp::Identity | UnaryOp::Add | UnaryOp::Sub => Ok(g.clone()),
        UnaryOp::Neg | UnaryOp::RSub => g.neg(),
        UnaryOp::Square => g.mul(&input().mul_scalar(k(2.0))?),
        UnaryOp::Sqrt => g.div(&output().mul_scalar(k(2.0))?),
        UnaryOp::Exp => g.mul(output()),
        UnaryOp::Log => g.div(input()),
        UnaryOp::Log1p => g.div(&input().add_scalar(T::one())?),
        UnaryOp::Sin => g.mul(&input().cos()?),
        UnaryOp::Cos => g.mul(&input().sin()?.neg()?),
        // sign(x) is recorded with a zero gradient: |x|'' = 0 everywhere, at 0 included.
        UnaryOp::Abs => g.mul(&input().sign()?),
        UnaryOp::Sign | UnaryOp::Fill => g.zeros_like(),
        // torch's pow_backward: 0 everywhere for an exponent of 0, else g · (c xᶜ⁻¹).
        UnaryOp::Powf if c == T::zero() => g.zeros_like(),
        UnaryOp::Powf => g.mul(&input().powf(c - T::one())?.mul_scalar(c)?),
        UnaryOp::Mul => g.mul_scalar(c),
        UnaryOp::Div => g.div_scalar(c),
        // c / x is torch's reciprocal(x) · c: -(g c) r² with r = 1/x recorded, so that the higher derivatives
        // at the pole x = 0 are torch's infinities rather than the 0 · ∞ of differentiating x².
        UnaryOp::RDiv => g.mul_scalar(c)?.neg()?.mul(&input().rdiv_scalar(T::one())?.square()?),
        UnaryOp::ClampMin => where_(&input().detach().ge(&scalar(c, g)?)?, g, &zero()?),
        UnaryOp::ClampMax => where_(&input().detach().le(&scalar(c, g)?)?, g, &zero()?),
        // threshold_backward: 0 where y ≤ 0 (NaN passes g, as the kernel).
        UnaryOp::Relu => {
            let y = output();
            let pass = y.detach().le(&zero()?)?.rsub_scalar(T::one())?;
            masked("ThresholdBackwardBackward0", g, y, pass, None)
        }
        UnaryOp::LeakyRelu => {
            let x = input();
            masked("LeakyReluBackwardBackward0", g, x, x.detach().gt(&zero()?)?, Some(c))
        }
        UnaryOp::Sigmoid => {
            let y = output();
            g.mul(&y.rsub_scalar(T::one())?)?.mul(y)
        }
        UnaryOp::Tanh => g.mul(&output().square()?.rsub_scalar(T::one())?),
        UnaryOp::Gelu => g.mul(&gelu_derivative(input())?),
        UnaryOp::GeluTanh => {
            let x = input();
            let x_sq = x.square()?;
            let inner = x_sq.mul(x)?.mul_scalar(k(GELU_KAPPA))?.add(x)?.mul_scalar(k(SQRT_2_OVER_PI))?;
            let t = inner.tanh()?;
            let left_derivative = t.add_scalar(T::one())?.mul_scalar(k(0.5))?;
            let three_kappa = k::<T>(3.0) * k::<T>(GELU_KAPPA);
            let inner_derivative = x_sq.mul_scalar(three_kappa)?.add_scalar(T::one())?.mul_scalar(k(SQRT_2_OVER_PI))?;
            let right = x.mul_scalar(k(0.5))?.mul(&t.square()?.rsub_scalar(T::one())?)?.mul(&inner_derivative)?;
            g.mul(&left_derivative.add(&right)?)
        }
        UnaryOp::Silu => {
            let x = input();
            let s = x.sigmoid()?;
            g.mul(&s)?.mul(&x.mul(&s.rsub_scalar(T::one())?)?.add_scalar(T::one())?)
        }
        UnaryOp::Softplus => {
            // x above the threshold c passes g; at or below it, g eˣ/(eˣ + 1), whose own derivative torch
            // masks with x < c (softplus_double_backward): at x = c the value is the exponential branch's,
            // but it is a constant of x.
            let x = input();
            let (threshold, detached) = (scalar(c, g)?, x.detach());
            let above = detached.gt(&threshold)?;
            let frozen = where_(&above, &zero()?, &detached)?;
            let z = where_(&detached.ge(&threshold)?, &frozen, x)?.exp()?;
            where_(&above, g, &g.mul(&z)?.div(&z.add_scalar(T::one())?)?)
        }
        UnaryOp::Elu => {
            // x > 0 passes g; at or below 0, g α eˣ, whose own derivative torch masks with x < 0
            // (elu_double_backward): at x = 0, eˣ is the constant 1.
            let x = input();
            let positive = x.detach().gt(&zero()?)?;
            let z = where_(&x.detach().ge(&zero()?)?, &zero()?, x)?.exp()?;
            where_(&positive, g, &g.mul_scalar(c)?.mul(&z)?)
        }
    }
}

/// `g` where `pass` is 1, else `g · slope` (0 without a slope), as an op of `g` and of `source`, the tensor
/// the mask came from, whose derivative for `source` is 0 (torch's `threshold_backward`).
fn masked<T: Element>(
    name: &'static str,
    g: &Tensor<T>,
    source: &Tensor<T>,
    pass: Tensor<T>,
    slope: Option<T>,
) -> Result<Tensor<T>> {
    let op = Masked { pass: Saved::input(&pass), slope, source_shape: source.shape().to_vec() };
    let value = crate::no_grad(|| op.select(name, g))?;
    Ok(record(name, value, &[g, source], |_| op))
}

/// The backward of [`masked`]: the same selection of its gradient for `g`, and zeros for the source.
struct Masked<T: Element> {
    pass: Saved<T>,
    slope: Option<T>,
    source_shape: Vec<usize>,
}

impl<T: Element> Masked<T> {
    fn select(&self, name: &'static str, g: &Tensor<T>) -> Result<Tensor<T>> {
        let other = match self.slope {
            Some(slope) => g.mul_scalar(slope)?,
            None => scalar(T::zero(), g)?,
        };
        where_(self.pass.get(name)?, g, &other)
    }
}

impl<T: Element> BackwardOp<T> for Masked<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let name = if self.slope.is_some() { "LeakyReluBackwardBackward0" } else { "ThresholdBackwardBackward0" };
        let g = needs[0].then(|| self.select(name, grad)).transpose()?;
        let source = needs[1].then(|| Tensor::full_on(&self.source_shape, T::zero(), grad.device())).transpose()?;
        Ok(smallvec![g, source])
    }

    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

/// GELU's derivative `Φ(x) + x φ(x)` as a recorded op of `x`: its value from the table's gradient kernel
/// (with `g = 1`, so `g · gelu'(x)` rounds as the fused backward does; there is no erf tensor op to compose
/// it from), its own derivative `φ(x) (2 − x²)` composed of recorded ops, so every higher order follows.
fn gelu_derivative<T: Element>(x: &Tensor<T>) -> Result<Tensor<T>> {
    let one = scalar(T::one(), x)?;
    let ones = one.layout().broadcast_to(x.shape());
    let storage = with_storages([x, &one], |[s, g]| s.unary_grad(x.layout(), g, &ones, UnaryOp::Gelu, T::zero()))?;
    let out = Tensor::from_storage(storage, x.shape());
    Ok(record("GeluBackwardBackward0", out, &[x], |_| GeluDerivativeBackward { x: Saved::input(x) }))
}

/// The backward of [`gelu_derivative`]: `g · φ(x) (2 − x²)` in torch's order (`2 pdf − x² pdf`, `pdf =
/// e^{−x²/2} / √(2π)`), all recorded ops.
struct GeluDerivativeBackward<T: Element> {
    x: Saved<T>,
}

impl<T: Element> BackwardOp<T> for GeluDerivativeBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let x = self.x.get("GeluBackwardBackward0")?;
        let x_sq = x.square()?;
        let pdf = x_sq.mul_scalar(k(-0.5))?.exp()?.mul_scalar(k(FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * 0.5))?;
        let second = pdf.mul_scalar(k(2.0))?.sub(&x_sq.mul(&pdf)?)?;
        Ok(smallvec![Some(grad.mul(&second)?)])
    }

    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}
