//! Selection by condition and by index: `where_`, `gather`, `one_hot`. Index tensors hold whole numbers in the
//! tensor's own element type (torchlet has float tensors only), checked before use; `gather` is built from
//! `where_` and a sum, so its backward is the scatter-add torch's is, on every device.

use super::with_storages;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx, Saved};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{broadcast_shapes, resolve_dim};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// `a` where `cond` is non-zero, else `b`, all broadcast to one shape; no history.
fn select<T: Element>(cond: &Tensor<T>, a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    let shape = broadcast_shapes("where", cond.shape(), a.shape())?;
    let shape = broadcast_shapes("where", &shape, b.shape())?;
    let (lc, la, lb) =
        (cond.layout().broadcast_to(&shape), a.layout().broadcast_to(&shape), b.layout().broadcast_to(&shape));
    let storage = with_storages([cond, a, b], |[c, x, y]| c.where_cond(&lc, x, &la, y, &lb))?;
    Ok(Tensor::from_storage(storage, &shape))
}

/// The gradient of `where(cond, a, b)`: `g` where the condition holds goes to `a`, the rest to `b`.
struct WhereBackward<T: Element> {
    cond: Saved<T>,
    shapes: [Vec<usize>; 2],
}

impl<T: Element> BackwardOp<T> for WhereBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let cond = self.cond.get("WhereBackward0")?;
        let zero = Tensor::full_on(&[], T::zero(), grad.device())?;
        let a = needs[0].then(|| select(cond, grad, &zero)?.sum_to_shape(&self.shapes[0])).transpose()?;
        let b = needs[1].then(|| select(cond, &zero, grad)?.sum_to_shape(&self.shapes[1])).transpose()?;
        Ok(smallvec![a, b])
    }

    /// The same selections through `where_` itself, recorded (the condition is a constant).
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let cond = self.cond.get("WhereBackward0")?;
            let zero = Tensor::full_on(&[], T::zero(), grad.device())?;
            let a = needs[0].then(|| where_(cond, grad, &zero)?.sum_to_shape(&self.shapes[0])).transpose()?;
            let b = needs[1].then(|| where_(cond, &zero, grad)?.sum_to_shape(&self.shapes[1])).transpose()?;
            Ok(smallvec![a, b])
        })())
    }
}

/// `a` where `cond` is non-zero, else `b`, with broadcasting (`torch.where(cond, a, b)`); `cond` is a 0/1
/// tensor such as the comparisons return. The gradient flows to `a` where the condition holds and to `b`
/// elsewhere; a NaN or infinity in the branch not taken does not leak into the result or the gradient.
///
/// ```
/// use torchlet::{where_, Tensor};
/// let x = Tensor::new([-1.0, 2.0, -3.0]);
/// let positive = x.gt(&Tensor::scalar(0.0))?;
/// assert_eq!(where_(&positive, &x, &Tensor::scalar(0.0))?.to_vec()?, vec![0.0, 2.0, 0.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn where_<T: Element>(cond: &Tensor<T>, a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    let out = select(cond, a, b)?;
    let shapes = [a.shape().to_vec(), b.shape().to_vec()];
    Ok(record("WhereBackward0", out, &[a, b], |_| WhereBackward { cond: Saved::input(&cond.detach()), shapes }))
}

/// Checks that every element of an index tensor is a whole number in `[0, size)`.
pub(crate) fn check_indices<T: Element>(op: &'static str, index: &Tensor<T>, size: usize) -> Result<()> {
    for v in index.to_vec()? {
        let whole = v.to_f64().is_some_and(|f| f.fract() == 0.0);
        let i = v.to_i64().filter(|_| whole);
        if !i.is_some_and(|i| i >= 0 && (i as u64) < size as u64) {
            return Err(Error::invalid(op, format!("index {v} is out of bounds for dimension with size {size}")));
        }
    }
    Ok(())
}

impl<T: Element> Tensor<T> {
    /// `[0, 1, ..., n-1]` on this tensor's device, shaped to broadcast along `dim` of a tensor of rank `rank`.
    pub(crate) fn index_grid(&self, n: usize, dim: usize, rank: usize) -> Result<Tensor<T>> {
        let mut shape = vec![1; rank];
        shape[dim] = n;
        let values = (0..n).map(|i| T::from_usize(i).unwrap_or_else(T::nan)).collect();
        Tensor::from_vec(values, &shape)?.to(self.device())
    }

    /// The entries of `dim` picked by `index` (`torch.gather`): `out[i][j] = self[i][index[i][j]]` for
    /// `dim = 1`. `index` holds whole numbers in `[0, size of dim)` and has `self`'s shape except along
    /// `dim`. The backward adds each picked entry's gradient back where it came from (scatter-add).
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let picked = x.gather(1, &torchlet::Tensor::new([[2.0], [0.0]]))?;
    /// assert_eq!(picked.to_vec()?, vec![3.0, 4.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn gather(&self, dim: isize, index: &Tensor<T>) -> Result<Tensor<T>> {
        const OP: &str = "gather";
        let d = resolve_dim(OP, dim, self.shape())?;
        let fits = index.rank() == self.rank()
            && index.shape().iter().zip(self.shape()).enumerate().all(|(k, (&i, &s))| k == d || i == s);
        if self.rank() == 0 || !fits {
            return Err(Error::shape(
                OP,
                format!(
                    "index of shape {:?} does not fit input of shape {:?} along dim {d}",
                    index.shape(),
                    self.shape()
                ),
            ));
        }
        let size = self.shape()[d];
        check_indices(OP, index, size)?;
        let last = self.rank() as isize - 1;
        // With `dim` moved last: mask[..., k, s] = (index[..., k] == s), and out[..., k] = Σ_s where(mask, x[..., s], 0).
        let x = self.transpose(d as isize, last)?.unsqueeze(-2)?;
        let idx = index.detach().transpose(d as isize, last)?.unsqueeze(-1)?;
        let grid = self.index_grid(size, 0, 1)?;
        let mask = idx.eq(&grid)?;
        let zero = Tensor::full_on(&[], T::zero(), self.device())?;
        where_(&mask, &x, &zero)?.sum_dim(-1, false)?.transpose(d as isize, last)
    }

    /// One-hot rows (`F.one_hot`): for class values `self` (whole numbers in `[0, num_classes)`), a tensor
    /// with one more dim of size `num_classes`, 1 at each class and 0 elsewhere.
    ///
    /// ```
    /// let labels = torchlet::Tensor::new([2.0, 0.0]);
    /// assert_eq!(labels.one_hot(3)?.to_vec2()?, vec![vec![0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0]]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn one_hot(&self, num_classes: usize) -> Result<Tensor<T>> {
        check_indices("one_hot", self, num_classes)?;
        let mut shape = self.shape().to_vec();
        shape.push(num_classes);
        crate::shape::checked_numel("one_hot", &shape)?;
        let grid = self.index_grid(num_classes, 0, 1)?;
        self.detach().unsqueeze(-1)?.eq(&grid)
    }
}
