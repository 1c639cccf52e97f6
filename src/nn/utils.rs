//! Gradient clipping, as `torch.nn.utils`: [`clip_grad_norm_`] and [`clip_grad_value_`].
//!
//! Both change the parameters' gradients in place (handles to them see the change) and skip parameters
//! without a gradient; call them between `backward()` and the optimizer's `step()`.

use std::borrow::Borrow;

use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::stack;
use crate::tensor::Tensor;

/// Scales the gradients of `params` so that their joint 2-norm is at most `max_norm`
/// (`torch.nn.utils.clip_grad_norm_(params, max_norm)`), and returns that norm as it was before clipping;
/// [`clip_grad_norm_with`] takes torch's other arguments, the norm type and `error_if_nonfinite`.
///
/// As torch: the total norm is the norm of the per-gradient norms (`norm_type` 2.0, 1.0, any finite
/// p > 0, or `f64::INFINITY` for the largest magnitude); every gradient is multiplied by
/// `clamp(max_norm / (total_norm + 1e-6), max = 1)`, computed in the gradients' element type, the division
/// as torch's `reciprocal() * max_norm`. The result is a 0-dim tensor on the first gradient's device (0.0
/// when no parameter has a gradient). With `error_if_nonfinite`, a NaN or infinite total norm is an error
/// and no gradient changes; without it, the gradients are scaled by the non-finite coefficient, as in torch.
///
/// ```
/// use torchlet::nn::utils::clip_grad_norm_;
/// use torchlet::Tensor;
/// let (a, b) = (Tensor::new([1.0, 2.0]).requires_grad_(true)?, Tensor::new([3.0]).requires_grad_(true)?);
/// a.set_grad(Some(Tensor::new([3.0, 0.0])))?;
/// b.set_grad(Some(Tensor::new([4.0])))?; // joint 2-norm 5
/// let total = clip_grad_norm_([&a, &b], 1.0)?;
/// assert_eq!(total.item()?, 5.0);
/// let coef = (1.0 / (5.0 + 1e-6)) * 1.0;
/// assert_eq!(a.grad().unwrap().to_vec()?, vec![3.0 * coef, 0.0]);
/// assert_eq!(b.grad().unwrap().to_vec()?, vec![4.0 * coef]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn clip_grad_norm_<T: Element, P: Borrow<Tensor<T>>>(
    params: impl IntoIterator<Item = P>,
    max_norm: f64,
) -> Result<Tensor<T>> {
    clip_grad_norm_with(params, max_norm, ClipGradNorm::default())
}

/// The options of [`clip_grad_norm_with`], torch's keyword arguments with torch's defaults: the 2-norm,
/// and no error for a non-finite norm.
///
/// ```
/// use torchlet::nn::utils::ClipGradNorm;
/// let opts = ClipGradNorm { norm_type: f64::INFINITY, ..Default::default() };
/// assert!(!opts.error_if_nonfinite);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipGradNorm {
    /// The order of the norm (`norm_type=`): 2.0 by default, 1.0, any finite p > 0, or `f64::INFINITY`.
    pub norm_type: f64,
    /// Fail, changing nothing, when the total norm is NaN or infinite (`error_if_nonfinite=`); false by default.
    pub error_if_nonfinite: bool,
}

impl Default for ClipGradNorm {
    fn default() -> Self {
        ClipGradNorm { norm_type: 2.0, error_if_nonfinite: false }
    }
}

/// [`clip_grad_norm_`] with torch's keyword arguments (`clip_grad_norm_(params, max_norm, norm_type=...,
/// error_if_nonfinite=...)`).
///
/// ```
/// use torchlet::nn::utils::{clip_grad_norm_with, ClipGradNorm};
/// use torchlet::Tensor;
/// let w = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
/// w.set_grad(Some(Tensor::new([3.0, -4.0])))?;
/// let opts = ClipGradNorm { norm_type: 1.0, ..Default::default() };
/// assert_eq!(clip_grad_norm_with([&w], 14.0, opts)?.item()?, 7.0); // within the bound: unchanged
/// assert_eq!(w.grad().unwrap().to_vec()?, vec![3.0, -4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn clip_grad_norm_with<T: Element, P: Borrow<Tensor<T>>>(
    params: impl IntoIterator<Item = P>,
    max_norm: f64,
    options: ClipGradNorm,
) -> Result<Tensor<T>> {
    const OP: &str = "clip_grad_norm_";
    let ClipGradNorm { norm_type, error_if_nonfinite } = options;
    if !(norm_type == f64::INFINITY || (norm_type.is_finite() && norm_type > 0.0)) {
        return Err(Error::invalid(OP, format!("invalid norm_type: {norm_type} (must be > 0 or infinity)")));
    }
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::invalid(OP, format!("invalid max_norm: {max_norm} (must be >= 0)")));
    }
    let grads: Vec<Tensor<T>> = params.into_iter().filter_map(|p| p.borrow().grad()).collect();
    let Some(first) = grads.first() else { return Ok(Tensor::scalar(T::zero())) };
    let device = first.device();
    let t = T::from_f64_lossy;
    no_grad(|| {
        let norms = grads.iter().map(|g| vector_norm(g, norm_type)?.to(device)).collect::<Result<Vec<_>>>()?;
        let total = vector_norm(&stack(&norms, 0)?, norm_type)?;
        if error_if_nonfinite && !total.item()?.is_finite() {
            return Err(Error::invalid(
                OP,
                format!(
                    "the total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot \
                     be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \
                     `error_if_nonfinite=false`"
                ),
            ));
        }
        let coef = total.add_scalar(t(1e-6))?.rdiv_scalar(T::one())?.mul_scalar(t(max_norm))?.clamp_max(T::one())?;
        for g in &grads {
            g.mul_(&coef.to(g.device())?)?;
        }
        Ok(total)
    })
}

/// Clamps every gradient of `params` to `[-clip_value, clip_value]` in place
/// (`torch.nn.utils.clip_grad_value_`).
///
/// Fails for a NaN or negative `clip_value` (torch would clamp everything to `-|clip_value|` there).
///
/// ```
/// use torchlet::nn::utils::clip_grad_value_;
/// use torchlet::Tensor;
/// let w = Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true)?;
/// w.set_grad(Some(Tensor::new([-5.0, 0.5, 2.0])))?;
/// clip_grad_value_([&w], 1.0)?;
/// assert_eq!(w.grad().unwrap().to_vec()?, vec![-1.0, 0.5, 1.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn clip_grad_value_<T: Element, P: Borrow<Tensor<T>>>(
    params: impl IntoIterator<Item = P>,
    clip_value: f64,
) -> Result<()> {
    if clip_value.is_nan() || clip_value < 0.0 {
        return Err(Error::invalid("clip_grad_value_", format!("invalid clip_value: {clip_value} (must be >= 0)")));
    }
    let c = T::from_f64_lossy(clip_value);
    no_grad(|| {
        for g in params.into_iter().filter_map(|p| p.borrow().grad()) {
            g.copy_(&g.clamp(Some(-c), Some(c))?)?;
        }
        Ok(())
    })
}

/// `torch.linalg.vector_norm(x, p)` of all elements: [`Tensor::norm`] for 1, 2 and ∞, `(Σ|x|^p)^(1/p)`
/// otherwise.
fn vector_norm<T: Element>(x: &Tensor<T>, p: f64) -> Result<Tensor<T>> {
    if p == 1.0 || p == 2.0 || p == f64::INFINITY {
        x.norm(p)
    } else {
        x.abs()?.powf(T::from_f64_lossy(p))?.sum()?.powf(T::from_f64_lossy(1.0 / p))
    }
}
