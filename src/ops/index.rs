//! Picking entries along a dimension by index (the DataLoader's batching).

use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::resolve_dim;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// Scatters the gradient back: each selected slice's gradient is added to the slice it came from, so an
/// index picked twice gets both contributions.
struct IndexSelectBackward {
    input_shape: Vec<usize>,
    dim: usize,
    indices: Vec<usize>,
}

impl IndexSelectBackward {
    /// The scatter-add itself, with no history.
    fn scattered<T: Element>(&self, grad: &Tensor<T>) -> Result<Tensor<T>> {
        // Work with `dim` moved to the front, where the storage kernels index.
        let mut front_shape = self.input_shape.clone();
        front_shape.swap(0, self.dim);
        let out = Tensor::full_on(&front_shape, T::zero(), grad.device())?;
        let g = grad.view_with(grad.layout().transpose(0, self.dim));
        let row_len = crate::shape::numel(&front_shape[1..]);
        super::with_storage_mut(&out, [&g], |o, [s]| o.index_add0(row_len, s, g.layout(), &self.indices))?;
        Ok(out.view_with(out.layout().transpose(0, self.dim)))
    }
}

impl<T: Element> BackwardOp<T> for IndexSelectBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(self.scattered(grad)?)])
    }

    /// The scatter-add recorded as an op of the gradient, whose own backward gathers the same entries again
    /// (torch's `IndexSelectBackwardBackward0`).
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, _needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.scattered(grad).map(|out| {
            let (dim, indices) = (self.dim, self.indices.clone());
            smallvec![Some(record("IndexSelectBackwardBackward0", out, &[grad], |_| Gather { dim, indices }))]
        }))
    }
}

/// The backward of the scatter-add: the gradient at the entries `index_select` picked.
struct Gather {
    dim: usize,
    indices: Vec<usize>,
}

impl<T: Element> BackwardOp<T> for Gather {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad.index_select(self.dim as isize, &self.indices)?)])
    }

    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

impl<T: Element> Tensor<T> {
    /// The entries of `dim` at `indices`, in that order, as a new tensor (`torch.index_select`).
    ///
    /// ```
    /// let x = torchlet::Tensor::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(x.index_select(0, &[2, 0])?.to_vec2()?, vec![vec![5.0, 6.0], vec![1.0, 2.0]]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn index_select(&self, dim: isize, indices: &[usize]) -> Result<Self> {
        let d = resolve_dim("index_select", dim, self.shape())?;
        if self.rank() == 0 {
            return Err(Error::shape("index_select", "cannot index a 0-D tensor"));
        }
        let size = self.shape()[d];
        if let Some(&bad) = indices.iter().find(|&&i| i >= size) {
            return Err(Error::invalid(
                "index_select",
                format!("index {bad} is out of bounds for dim {d} with size {size} (shape {:?})", self.shape()),
            ));
        }
        let front = self.layout().transpose(0, d);
        let storage = self.read().index_select0(&front, indices)?;
        let mut front_shape = front.shape.to_vec();
        front_shape[0] = indices.len();
        let selected = Tensor::from_storage(storage, &front_shape);
        let out = if d == 0 { selected } else { selected.view_with(selected.layout().transpose(0, d)) };
        let (input_shape, indices) = (self.shape().to_vec(), indices.to_vec());
        Ok(record("IndexSelectBackward0", out, &[self], |_| IndexSelectBackward { input_shape, dim: d, indices }))
    }
}
