//! Ops that change how the elements are seen, not the elements: transpose, reshape, squeeze, narrow, expand.
//! They share the storage of their input where the layout allows (a reshape of a strided tensor copies).

use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{broadcast_shapes, numel, resolve_dim, resolve_dim_in, Layout};
use crate::tensor::Tensor;
use smallvec::smallvec;

enum ViewBackward {
    /// Swap the same two dims back.
    Transpose(usize, usize),
    /// Reshape back (also the backward of squeeze and unsqueeze).
    Reshape(Vec<usize>),
    /// Sum over the stretched dims.
    Expand(Vec<usize>),
    /// Place the gradient in a zero tensor of the input's shape.
    Narrow {
        input_shape: Vec<usize>,
        dim: usize,
        start: usize,
    },
    /// The backward of that placing, when a backward builds a graph: the window again.
    Window {
        dim: usize,
        start: usize,
        len: usize,
    },
    Identity,
}

impl<T: Element> BackwardOp<T> for ViewBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = match self {
            ViewBackward::Transpose(a, b) => grad.view_with(grad.layout().transpose(*a, *b)),
            ViewBackward::Reshape(shape) => grad.reshape(shape)?,
            ViewBackward::Expand(shape) => grad.sum_to_shape(shape)?,
            ViewBackward::Narrow { input_shape, dim, start } => placed(grad, input_shape, *dim, *start)?,
            ViewBackward::Window { dim, start, len } => grad.narrow(*dim as isize, *start, *len)?,
            ViewBackward::Identity => grad.clone(),
        };
        Ok(smallvec![Some(g)])
    }

    /// The same views, recorded: a transpose through `transpose`, the placed window as an op whose
    /// backward takes the window again (torch's `SliceBackwardBackward0`); the rest is recorded already.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(match self {
            ViewBackward::Transpose(a, b) => grad.transpose(*a as isize, *b as isize).map(|g| smallvec![Some(g)]),
            ViewBackward::Narrow { input_shape, dim, start } => placed(grad, input_shape, *dim, *start).map(|out| {
                let (dim, start, len) = (*dim, *start, grad.shape()[*dim]);
                smallvec![Some(record("SliceBackwardBackward0", out, &[grad], |_| ViewBackward::Window {
                    dim,
                    start,
                    len
                }))]
            }),
            _ => self.backward(grad, needs),
        })
    }
}

/// `grad` placed at `start` along `dim` of zeros of `input_shape`, with no history.
fn placed<T: Element>(grad: &Tensor<T>, input_shape: &[usize], dim: usize, start: usize) -> Result<Tensor<T>> {
    let full = Tensor::full_on(input_shape, T::zero(), grad.device())?;
    let window = full.layout().narrow(dim, start, grad.shape()[dim]);
    super::with_storage_mut(&full, [grad], |f, [g]| f.assign(&window, g, grad.layout(), None))?;
    Ok(full)
}

impl<T: Element> Tensor<T> {
    /// The view with dims `dim0` and `dim1` swapped (`torch.transpose`); no data moves.
    pub fn transpose(&self, dim0: isize, dim1: isize) -> Result<Self> {
        let a = resolve_dim("transpose", dim0, self.shape())?;
        let b = resolve_dim("transpose", dim1, self.shape())?;
        if self.rank() < 2 {
            return Ok(self.clone());
        }
        let out = self.view_with(self.layout().transpose(a, b));
        Ok(record("TransposeBackward0", out, &[self], |_| ViewBackward::Transpose(a, b)))
    }

    /// The transpose of a 2-D tensor (`tensor.t()`); 0-D and 1-D tensors come back as they are, as in torch.
    pub fn t(&self) -> Result<Self> {
        match self.rank() {
            0 | 1 => Ok(self.clone()),
            2 => self.transpose(0, 1),
            _ => Err(Error::shape("t", format!("expects a tensor with <= 2 dimensions, got shape {:?}", self.shape()))),
        }
    }

    /// The same elements with another shape of equal size (`tensor.reshape`): a view when the tensor is
    /// contiguous, a copy otherwise.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        if numel(shape) != self.numel() {
            return Err(Error::shape(
                "reshape",
                format!(
                    "shape {:?} ({} elements) cannot be reshaped to {shape:?} ({} elements)",
                    self.shape(),
                    self.numel(),
                    numel(shape)
                ),
            ));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let out = if self.is_contiguous() {
            let mut layout = Layout::contiguous(shape);
            layout.offset = self.layout().offset;
            self.view_with(layout)
        } else {
            let copy = self.contiguous_copy()?;
            copy.view_with(Layout::contiguous(shape))
        };
        let input_shape = self.shape().to_vec();
        Ok(record("ViewBackward0", out, &[self], |_| ViewBackward::Reshape(input_shape)))
    }

    /// `self` without dim `dim` if its size is 1, else unchanged (`tensor.squeeze(dim)`).
    pub fn squeeze_dim(&self, dim: isize) -> Result<Self> {
        let d = resolve_dim("squeeze", dim, self.shape())?;
        match self.shape().get(d) {
            Some(1) => {
                let mut shape = self.shape().to_vec();
                shape.remove(d);
                self.reshape(&shape)
            }
            _ => Ok(self.clone()),
        }
    }

    /// `self` without any dims of size 1 (`tensor.squeeze()`).
    pub fn squeeze(&self) -> Result<Self> {
        let shape: Vec<usize> = self.shape().iter().copied().filter(|&s| s != 1).collect();
        self.reshape(&shape)
    }

    /// `self` with a new dim of size 1 at `dim` (`tensor.unsqueeze(dim)`); `dim` may be `rank`.
    pub fn unsqueeze(&self, dim: isize) -> Result<Self> {
        let d = resolve_dim_in("unsqueeze", dim, self.shape(), self.rank() + 1)?;
        let mut shape = self.shape().to_vec();
        shape.insert(d, 1);
        self.reshape(&shape)
    }

    /// The `len` entries of `dim` from `start` on, as a view (`tensor.narrow`).
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Result<Self> {
        let d = resolve_dim("narrow", dim, self.shape())?;
        if self.rank() == 0 {
            return Err(Error::shape("narrow", "cannot narrow a 0-D tensor"));
        }
        let size = self.shape()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::shape(
                "narrow",
                format!("start ({start}) + length ({len}) exceeds size {size} of dim {d} in shape {:?}", self.shape()),
            ));
        }
        let out = self.view_with(self.layout().narrow(d, start, len));
        let input_shape = self.shape().to_vec();
        Ok(record("NarrowBackward0", out, &[self], |_| ViewBackward::Narrow { input_shape, dim: d, start }))
    }

    /// A view of `self` broadcast to `shape` without copying (`tensor.expand`).
    pub fn expand(&self, shape: &[usize]) -> Result<Self> {
        let fits = broadcast_shapes("expand", self.shape(), shape).is_ok_and(|b| b.as_slice() == shape);
        if !fits {
            return Err(Error::shape("expand", format!("shape {:?} cannot be expanded to {shape:?}", self.shape())));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        crate::shape::checked_numel("expand", shape)?;
        let out = self.view_with(self.layout().broadcast_to(shape));
        let input_shape = self.shape().to_vec();
        Ok(record("ExpandBackward0", out, &[self], |_| ViewBackward::Expand(input_shape)))
    }

    /// `self` if it is contiguous, else a contiguous copy (`tensor.contiguous()`).
    pub fn contiguous(&self) -> Result<Self> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        self.deep_clone()
    }

    /// A copy with its own storage that stays in the graph (`tensor.clone()`).
    pub fn deep_clone(&self) -> Result<Self> {
        let out = self.contiguous_copy()?;
        Ok(record("CloneBackward0", out, &[self], |_| ViewBackward::Identity))
    }
}
