//! Reverse-mode autodiff: the graph nodes that ops record, grad mode (`no_grad`), anomaly mode, the backward
//! engine behind [`Tensor::backward`](crate::Tensor::backward) and [`grad`], and gradient hooks.
//!
//! Each recorded op makes one node holding its backward function and edges to its inputs' nodes (or to
//! the leaf tensors that collect gradients). Nodes point only backwards, to inputs, so the graph has no
//! cycles and is freed as soon as its output tensors are dropped.
//!
//! Gradients of gradients: with `create_graph` the backward runs with grad mode on and every op builds its
//! gradients from recorded tensor ops, so they can be differentiated again, to any order.
//!
//! ```
//! use torchlet::autograd::{grad, grad_with, GradOptions};
//! use torchlet::Tensor;
//! let x = Tensor::new([0.5, 2.0]).requires_grad_(true)?;
//! let y = x.powi(3)?.sum()?;
//! // dy/dx = 3x², kept as a graph; d/dx Σ 3x² = 6x.
//! let dx = grad_with(&[&y], &[&x], &GradOptions::new().create_graph(true))?.remove(0).unwrap();
//! let d2x = grad(&[&dx.sum()?], &[&x])?.remove(0).unwrap();
//! assert_eq!(dx.to_vec()?, vec![0.75, 12.0]);
//! assert_eq!(d2x.to_vec()?, vec![3.0, 12.0]);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod engine;
mod grad;
mod hooks;
mod node;
mod small_map;

use crate::element::Element;
use crate::error::{Error, Result};
use std::cell::Cell;

pub use grad::{grad, grad_with, BackwardOptions, GradOptions};
pub use hooks::RemovableHandle;
pub(crate) use hooks::{forget, next_hook_id};
pub(crate) use node::{record, BackwardOp, Grads, GraphCtx, Node, Saved};

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static DETECT_ANOMALY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with anomaly detection on for this thread (`torch.autograd.set_detect_anomaly(True)`): inside it,
/// a backward step that produces a NaN or an infinite gradient stops with an error naming the backward
/// function and the forward op that recorded it, instead of a NaN weight epochs later.
///
/// It costs a copy of every gradient to the host and a scan of it, on every backward step: off by default,
/// for debugging only.
///
/// ```
/// use torchlet::{autograd::detect_anomaly, Tensor};
/// let x = Tensor::new([0.0, 1.0]).requires_grad_(true)?;
/// let err = detect_anomaly(|| x.sqrt()?.sum()?.backward()).unwrap_err().to_string();
/// assert!(err.contains("SqrtBackward0") && err.contains("sqrt"), "{err}");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DETECT_ANOMALY.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DETECT_ANOMALY.with(|d| d.replace(true)));
    f()
}

/// Whether [`detect_anomaly`] is on for this thread.
pub fn is_anomaly_enabled() -> bool {
    DETECT_ANOMALY.with(Cell::get)
}

/// Under [`detect_anomaly`], fails when a gradient a node produced holds a NaN or an infinity.
pub(crate) fn check_anomaly<T: Element>(node: &'static str, grads: &Grads<T>) -> Result<()> {
    for (i, grad) in grads.iter().enumerate() {
        let Some(grad) = grad else { continue };
        if let Some(bad) = grad.to_vec()?.into_iter().find(|v| !v.is_finite()) {
            let forward = node.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches("Backward");
            return Err(Error::autograd(
                "backward",
                format!(
                    "function {node} returned {} values in its {i}th output (the gradient of the forward op {}); \
                     anomaly detection stopped here",
                    if bad.is_nan() { "nan" } else { "inf" },
                    forward.to_lowercase()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether ops on this thread are recorded for backward (`torch.is_grad_enabled()`).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous grad mode of this thread when dropped.
#[must_use = "grad mode is restored as soon as the guard is dropped"]
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets this thread's grad mode until the guard is dropped (`torch.set_grad_enabled`).
    pub fn new(enabled: bool) -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(enabled));
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` with gradient recording off on this thread (`with torch.no_grad():`).
///
/// ```
/// use torchlet::{no_grad, Tensor};
/// let w = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(false);
    f()
}

/// Runs `f` with gradient recording on, even inside `no_grad` (`with torch.enable_grad():`).
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(true);
    f()
}
