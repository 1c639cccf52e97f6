//! `softmax`, `log_softmax` and `logsumexp` along a dim, computed stably: the row maximum is subtracted first
//! (and kept out of the graph, where its gradient cancels), so logits of ±1000 neither overflow nor lose the
//! small terms.

use crate::element::Element;
use crate::error::Result;
use crate::shape::resolve_dim;
use crate::storage::ReduceOp;
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// The maximum along `d` with the dim kept, with no history.
    fn row_max(&self, d: usize) -> Result<Tensor<T>> {
        self.detach().reduce_dim(ReduceOp::Max, d, true)
    }

    /// `x - max(x)` along `d`, recorded (the maximum is a constant to autograd). As in torch's softmax
    /// kernels, a row holding +∞ becomes NaN throughout.
    fn shifted(&self, d: usize) -> Result<Tensor<T>> {
        self.sub(&self.row_max(d)?)
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
            return self.div(self);
        }
        let e = self.shifted(d)?.exp()?;
        e.div(&e.sum_dim(d as isize, true)?)
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
            return self.sub(self);
        }
        let z = self.shifted(d)?;
        z.sub(&z.exp()?.sum_dim(d as isize, true)?.log()?)
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
