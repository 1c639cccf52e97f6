//! Joining and splitting along a dim: `cat`, `stack`, `chunk`, `split`, and `flatten`. Splits are views;
//! `cat` copies each input into its window of a fresh tensor, and its backward hands each input the window
//! of the gradient it filled.

use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{resolve_dim, resolve_dim_in};
use crate::tensor::Tensor;

/// The gradient of `cat`: each input's window of it, as a view.
struct CatBackward {
    dim: usize,
    sizes: Vec<usize>,
}

impl<T: Element> BackwardOp<T> for CatBackward {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let mut start = 0;
        let mut grads = Grads::new();
        for (&size, &need) in self.sizes.iter().zip(needs) {
            grads.push(need.then(|| grad.narrow(self.dim as isize, start, size)).transpose()?);
            start += size;
        }
        Ok(grads)
    }

    /// The windows are `narrow`s, recorded when grad mode is on.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

/// `tensors` joined along `dim` (`torch.cat`): they share every other dim's size, device and element type.
///
/// ```
/// use torchlet::{cat, Tensor};
/// let (a, b) = (Tensor::new([[1.0, 2.0]]), Tensor::new([[3.0, 4.0], [5.0, 6.0]]));
/// assert_eq!(cat(&[a, b], 0)?.to_vec2()?, vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn cat<T: Element>(tensors: &[Tensor<T>], dim: isize) -> Result<Tensor<T>> {
    const OP: &str = "cat";
    let Some(first) = tensors.first() else {
        return Err(Error::invalid(OP, "expected a non-empty list of tensors"));
    };
    let d = resolve_dim(OP, dim, first.shape())?;
    if first.rank() == 0 {
        return Err(Error::shape(OP, "zero-dimensional tensors cannot be concatenated"));
    }
    let mut shape = first.shape().to_vec();
    shape[d] = 0;
    for t in tensors {
        let fits = t.rank() == first.rank()
            && t.shape().iter().zip(first.shape()).enumerate().all(|(k, (a, b))| k == d || a == b);
        if !fits {
            return Err(Error::shape(
                OP,
                format!("sizes of tensors must match except in dimension {d}: {:?} and {:?}", first.shape(), t.shape()),
            ));
        }
        shape[d] = shape[d].checked_add(t.shape()[d]).ok_or_else(|| {
            Error::shape(OP, format!("the sizes along dimension {d} add up to more than usize holds"))
        })?;
    }
    crate::shape::checked_numel(OP, &shape)?;
    let out = Tensor::full_on(&shape, T::zero(), first.device())?;
    let mut start = 0;
    for t in tensors {
        let len = t.shape()[d];
        let window = out.layout().narrow(d, start, len);
        super::with_storage_mut(&out, [t], |o, [s]| o.assign(&window, s, t.layout(), None))?;
        start += len;
    }
    let sizes = tensors.iter().map(|t| t.shape()[d]).collect();
    let inputs: Vec<&Tensor<T>> = tensors.iter().collect();
    Ok(record("CatBackward0", out, &inputs, |_| CatBackward { dim: d, sizes }))
}

/// `tensors` (all of one shape) stacked along a new dim `dim` (`torch.stack`).
///
/// ```
/// use torchlet::{stack, Tensor};
/// let s = stack(&[Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])], 1)?;
/// assert_eq!(s.to_vec2()?, vec![vec![1.0, 3.0], vec![2.0, 4.0]]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn stack<T: Element>(tensors: &[Tensor<T>], dim: isize) -> Result<Tensor<T>> {
    const OP: &str = "stack";
    let Some(first) = tensors.first() else {
        return Err(Error::invalid(OP, "expected a non-empty list of tensors"));
    };
    if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
        return Err(Error::shape(
            OP,
            format!("stack expects each tensor to be equal size, but got {:?} and {:?}", first.shape(), t.shape()),
        ));
    }
    let d = resolve_dim_in(OP, dim, first.shape(), first.rank() + 1)?;
    let expanded = tensors.iter().map(|t| t.unsqueeze(d as isize)).collect::<Result<Vec<_>>>()?;
    cat(&expanded, d as isize)
}

impl<T: Element> Tensor<T> {
    /// Dims `start_dim..=end_dim` merged into one (`torch.flatten`); `flatten(1, -1)` keeps the batch dim.
    ///
    /// ```
    /// let x = torchlet::Tensor::<f32>::zeros(&[2, 3, 4]);
    /// assert_eq!(x.flatten(1, -1)?.shape(), &[2, 12]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn flatten(&self, start_dim: isize, end_dim: isize) -> Result<Tensor<T>> {
        if self.rank() == 0 {
            return self.reshape(&[1]);
        }
        let (s, e) = (resolve_dim("flatten", start_dim, self.shape())?, resolve_dim("flatten", end_dim, self.shape())?);
        if s > e {
            return Err(Error::invalid("flatten", format!("start_dim {s} cannot come after end_dim {e}")));
        }
        let mut shape = self.shape()[..s].to_vec();
        shape.push(self.shape()[s..=e].iter().product());
        shape.extend_from_slice(&self.shape()[e + 1..]);
        self.reshape(&shape)
    }

    /// Views of consecutive pieces of `split_size` entries along `dim`, the last one shorter if need be
    /// (`torch.split` with an int).
    pub fn split(&self, split_size: usize, dim: isize) -> Result<Vec<Tensor<T>>> {
        let d = resolve_dim("split", dim, self.shape())?;
        if self.rank() == 0 {
            return Err(Error::shape("split", "cannot split a 0-D tensor"));
        }
        let size = self.shape()[d];
        if split_size == 0 {
            return match size {
                0 => Ok(vec![self.clone()]),
                _ => Err(Error::invalid("split", format!("split_size 0 cannot split a dim of size {size}"))),
            };
        }
        (0..size.div_ceil(split_size).max(1))
            .map(|i| {
                let start = (i * split_size).min(size);
                self.narrow(d as isize, start, split_size.min(size - start))
            })
            .collect()
    }

    /// `chunks` views of (nearly) equal size along `dim` (`torch.chunk`): pieces of ⌈size / chunks⌉, so
    /// there may be fewer than asked.
    pub fn chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor<T>>> {
        if chunks == 0 {
            return Err(Error::invalid("chunk", "chunk expects `chunks` to be greater than 0, got: 0"));
        }
        let d = resolve_dim("chunk", dim, self.shape())?;
        let size = self.shape().get(d).copied().unwrap_or(1);
        self.split(size.div_ceil(chunks), dim)
    }
}
