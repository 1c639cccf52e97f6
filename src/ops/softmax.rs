//! `softmax`, `log_softmax` and `logsumexp` along a dim, computed stably: the row maximum is subtracted first
//! (and kept out of the graph, where its gradient cancels), so logits of ±1000 neither overflow nor lose the
//! small terms.
//!
//! Softmax and log-softmax are one recorded op each, as torch's `SoftmaxBackward0` and
//! `LogSoftmaxBackward0`: one storage primitive forward and one backward, from the saved output. `logsumexp`
//! is composed of the tensor ops.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::Result;
use crate::shape::resolve_dim;
use crate::storage::ReduceOp;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The backward of softmax (`log`: log-softmax) along `dim`, from the saved output.
struct SoftmaxBackward<T: Element> {
    name: &'static str,
    dim: usize,
    log: bool,
    output: Saved<T>,
}

impl<T: Element> BackwardOp<T> for SoftmaxBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let y = self.output.get(self.name)?;
        let grad_layout = grad.layout().broadcast_to(y.shape());
        let storage =
            with_storages([y, grad], |[ys, g]| ys.softmax_grad(y.layout(), g, &grad_layout, self.dim, self.log))?;
        Ok(smallvec![Some(Tensor::from_storage(storage, y.shape()))])
    }

    /// The same formulas as recorded ops of the output joined to this node: `g − exp(y) Σg`, or
    /// `y (g − Σ g·y)`, as torch's double backward differentiates them.
    fn backward_graph(&self, ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, _needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let y = self.output.output_in(self.name, ctx)?;
            let d = self.dim as isize;
            let dx = if self.log {
                grad.sub(&y.exp()?.mul(&grad.sum_dim(d, true)?)?)?
            } else {
                y.mul(&grad.sub(&grad.mul(&y)?.sum_dim(d, true)?)?)?
            };
            Ok(smallvec![Some(dx)])
        })())
    }
}

impl<T: Element> Tensor<T> {
    /// Softmax (`log`: log-softmax) along dim `d` as one recorded op.
    fn softmax_along(&self, d: usize, log: bool) -> Result<Tensor<T>> {
        let name = if log { "LogSoftmaxBackward0" } else { "SoftmaxBackward0" };
        let storage = self.read().softmax(self.layout(), d, log)?;
        let out = Tensor::from_storage(storage, self.shape());
        Ok(record(name, out, &[self], |out| SoftmaxBackward { name, dim: d, log, output: Saved::output(out) }))
    }

    /// The maximum along `d` with the dim kept, with no history.
    fn row_max(&self, d: usize) -> Result<Tensor<T>> {
        self.detach().reduce_dim(ReduceOp::Max, d, true)
    }

    /// `exp(x) / Σ exp(x)` along `dim` (`torch.softmax`), stable for large logits.
    ///
    /// ```
    /// let p = torchlet::Tensor::new([[1000.0, 1000.0], [0.0, -1000.0]]).softmax(1)?;
    /// assert_eq!(p.to_vec()?, vec![0.5, 0.5, 1.0, 0.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn softmax(&self, dim: isize) -> Result<Tensor<T>> {
        let d = resolve_dim("softmax", dim, self.shape())?;
        if self.rank() == 0 {
            // One slice of one element: 1, or NaN for NaN and ±∞, as torch.
            return self.reshape(&[1])?.softmax_along(0, false)?.reshape(&[]);
        }
        self.softmax_along(d, false)
    }

    /// `x - log Σ exp(x)` along `dim` (`torch.log_softmax`), stable for large logits.
    ///
    /// ```
    /// let l = torchlet::Tensor::new([[1000.0, -1000.0]]).log_softmax(1)?;
    /// assert_eq!(l.to_vec()?, vec![0.0, -2000.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn log_softmax(&self, dim: isize) -> Result<Tensor<T>> {
        let d = resolve_dim("log_softmax", dim, self.shape())?;
        if self.rank() == 0 {
            return self.reshape(&[1])?.softmax_along(0, true)?.reshape(&[]);
        }
        self.softmax_along(d, true)
    }

    /// `log Σ exp(x)` along `dim` (`torch.logsumexp`), stable: the maximum is taken out first.
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[1000.0, 1000.0]]);
    /// assert_eq!(x.logsumexp(1, false)?.to_vec()?, vec![1000.0 + 2f64.ln()]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn logsumexp(&self, dim: isize, keepdim: bool) -> Result<Tensor<T>> {
        let d = resolve_dim("logsumexp", dim, self.shape())?;
        if self.rank() == 0 {
            return Ok(self.clone());
        }
        // ±∞ maxima replaced by the largest finite values, as torch's logsumexp does: subtracting them from
        // a row of infinities would otherwise give NaN where torch gives ±∞.
        let shift = self.row_max(d)?.clamp(Some(T::min_value()), Some(T::max_value()))?;
        let out = self.sub(&shift)?.exp()?.sum_dim(d as isize, true)?.log()?.add(&shift)?;
        if keepdim {
            Ok(out)
        } else {
            out.squeeze_dim(d as isize)
        }
    }
}
