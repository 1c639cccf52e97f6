//! Shapes, strided layouts and the broadcasting rules of NumPy/PyTorch.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// Dimension sizes or strides; four inline slots cover the tutorials without a heap allocation.
pub(crate) type Dims = SmallVec<[usize; 4]>;

/// Number of elements of a shape (1 for a scalar, `[]`).
///
/// Saturates instead of overflowing: a shape whose count overflows can hold no real buffer, so it fails every
/// length check that follows, while a shape with a zero dim correctly counts 0 whatever its other dims.
pub(crate) fn numel(shape: &[usize]) -> usize {
    if shape.contains(&0) {
        return 0;
    }
    shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))
}

/// The most elements one tensor may have: as many 8-byte elements (the widest [`crate::Element`]) as one
/// allocation can hold (`isize::MAX` bytes).
pub(crate) const MAX_ELEMENTS: usize = isize::MAX as usize / 8;

/// The number of elements of a shape, or an error naming `op` when no buffer could hold them (more than
/// [`MAX_ELEMENTS`], or a count that overflows `usize`). A shape with a zero dim counts 0 whatever its others.
pub(crate) fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    if shape.contains(&0) {
        return Ok(0);
    }
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS).ok_or_else(|| {
        Error::shape(op, format!("shape {shape:?} has more elements than memory can hold (at most {MAX_ELEMENTS})"))
    })
}

/// Row-major (C-contiguous) strides of a shape.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Dims {
    let mut strides: Dims = SmallVec::from_elem(1, shape.len());
    let mut stride = 1usize;
    for (s, &size) in strides.iter_mut().zip(shape).rev() {
        *s = stride;
        // Saturating: only an empty tensor (a zero dim elsewhere) can have dims this large, and its strides
        // are never used to address an element.
        stride = stride.saturating_mul(size);
    }
    strides
}

/// Resolves a possibly negative dimension index (`-1` is the last) against a rank.
///
/// A scalar accepts dims 0 and -1, as torch does.
pub(crate) fn resolve_dim(op: &'static str, dim: isize, shape: &[usize]) -> Result<usize> {
    resolve_dim_in(op, dim, shape, shape.len().max(1))
}

/// Like [`resolve_dim`], for ops such as `unsqueeze` that accept one position past the last dim.
pub(crate) fn resolve_dim_in(op: &'static str, dim: isize, shape: &[usize], n: usize) -> Result<usize> {
    let n_signed = n as isize;
    let resolved = if dim < 0 { dim + n_signed } else { dim };
    if (0..n_signed).contains(&resolved) {
        Ok(resolved as usize)
    } else {
        Err(Error::DimOutOfRange { op, dim, shape: shape.to_vec(), lo: -n_signed, hi: n_signed - 1 })
    }
}

/// The shape two operands broadcast to: aligned from the right, a size of 1 (or a missing dim) stretches.
pub(crate) fn broadcast_shapes(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Result<Dims> {
    if lhs == rhs {
        return Ok(SmallVec::from_slice(lhs));
    }
    let rank = lhs.len().max(rhs.len());
    let mut out: Dims = SmallVec::with_capacity(rank);
    for i in 0..rank {
        let l = if i + lhs.len() >= rank { lhs[i + lhs.len() - rank] } else { 1 };
        let r = if i + rhs.len() >= rank { rhs[i + rhs.len() - rank] } else { 1 };
        out.push(match (l, r) {
            _ if l == r => l,
            (1, _) => r,
            (_, 1) => l,
            _ => {
                return Err(Error::shape(
                    op,
                    format!("shapes {lhs:?} and {rhs:?} cannot be broadcast together (dim {i}: {l} vs {r})"),
                ))
            }
        });
    }
    checked_numel(op, &out)?;
    Ok(out)
}

/// How a tensor's elements sit in its storage: shape, strides (in elements) and offset.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub shape: Dims,
    pub strides: Dims,
    pub offset: usize,
}

impl Clone for Layout {
    /// A copy of the integers as slices: `SmallVec`'s derived clone goes element by element through
    /// `extend`, and layouts are cloned for every view and saved tensor.
    fn clone(&self) -> Self {
        Layout { shape: Dims::from_slice(&self.shape), strides: Dims::from_slice(&self.strides), offset: self.offset }
    }
}

impl Layout {
    /// The row-major layout of a fresh tensor.
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout { shape: SmallVec::from_slice(shape), strides: contiguous_strides(shape), offset: 0 }
    }

    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Row-major with no gaps (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&size, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if size != 1 && stride != expected {
                return false;
            }
            // Saturating: only an empty tensor can have sizes whose product overflows, and it is contiguous.
            expected = expected.saturating_mul(size);
        }
        true
    }

    /// The same elements seen with `shape`, which `self.shape` broadcasts to (stretched dims get stride 0).
    pub fn broadcast_to(&self, shape: &[usize]) -> Layout {
        if self.shape.as_slice() == shape {
            return self.clone();
        }
        let extra = shape.len() - self.shape.len();
        let mut strides: Dims = SmallVec::from_elem(0, shape.len());
        for (i, (&size, &stride)) in self.shape.iter().zip(&self.strides).enumerate() {
            strides[i + extra] = if size == 1 && shape[i + extra] != 1 { 0 } else { stride };
        }
        Layout { shape: SmallVec::from_slice(shape), strides, offset: self.offset }
    }

    /// Dims `a` and `b` swapped: a transposed view.
    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        out
    }

    /// `len` entries of dim `dim` starting at `start`.
    pub fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        let mut out = self.clone();
        out.offset += start * self.strides[dim];
        out.shape[dim] = len;
        out
    }

    /// The same memory locations, each seen once: every dim a broadcast repeats (stride 0) cut to size 1.
    pub fn distinct(&self) -> Layout {
        let mut out = self.clone();
        for (size, &stride) in out.shape.iter_mut().zip(&self.strides) {
            if stride == 0 && *size > 1 {
                *size = 1;
            }
        }
        out
    }
}

/// Fails when two elements of the view share an address (a broadcast dim): an in-place write through it
/// would write some elements twice. torch refuses these writes with the same message.
pub(crate) fn check_no_overlap(op: &'static str, layout: &Layout) -> Result<()> {
    let empty = layout.numel() == 0;
    if !empty && layout.shape.iter().zip(&layout.strides).any(|(&size, &stride)| size > 1 && stride == 0) {
        return Err(Error::invalid(
            op,
            format!(
                "unsupported operation: more than one element of the written-to tensor (shape {:?}, strides {:?}) \
                 refers to a single memory location. Please clone() the tensor before performing the operation.",
                layout.shape, layout.strides
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_aligns_from_the_right() {
        assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap().as_slice(), &[3, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap().as_slice(), &[2, 2]);
        assert_eq!(broadcast_shapes("t", &[2, 1, 5], &[3, 1]).unwrap().as_slice(), &[2, 3, 5]);
        let err = broadcast_shapes("add", &[2, 3], &[4]).unwrap_err().to_string();
        assert_eq!(err, "add: shapes [2, 3] and [4] cannot be broadcast together (dim 1: 3 vs 4)");
    }

    #[test]
    fn views_have_the_strides_of_their_base() {
        let t = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert_eq!((t.shape.as_slice(), t.strides.as_slice()), (&[3, 2][..], &[1, 3][..]));
        assert!(!t.is_contiguous());
        let b = Layout::contiguous(&[3]).broadcast_to(&[2, 3]);
        assert_eq!(b.strides.as_slice(), &[0, 1]);
        assert!(Layout::contiguous(&[3, 1]).transpose(0, 1).is_contiguous());
        assert_eq!(Layout::contiguous(&[2, 3]).narrow(0, 1, 1).offset, 3);
    }

    #[test]
    fn huge_empty_shapes_do_not_overflow() {
        assert_eq!(numel(&[0, usize::MAX, 2]), 0);
        assert_eq!(numel(&[usize::MAX, 2]), usize::MAX);
        assert_eq!(contiguous_strides(&[0, usize::MAX, 2]).as_slice(), &[usize::MAX, 2, 1]);
    }

    #[test]
    fn only_broadcast_dims_overlap() {
        let l = Layout::contiguous(&[2, 3]);
        assert!(check_no_overlap("t", &l.transpose(0, 1)).is_ok());
        assert!(check_no_overlap("t", &Layout::contiguous(&[3]).broadcast_to(&[2, 3])).is_err());
        assert!(check_no_overlap("t", &Layout::contiguous(&[1, 3]).broadcast_to(&[1, 3])).is_ok());
        assert!(check_no_overlap("t", &Layout::contiguous(&[3]).broadcast_to(&[0, 3])).is_ok());
    }

    #[test]
    fn negative_dims_resolve_like_torch() {
        assert_eq!(resolve_dim("t", -1, &[2, 3]).unwrap(), 1);
        assert_eq!(resolve_dim("t", 0, &[]).unwrap(), 0);
        let err = resolve_dim("sum", 2, &[2, 3]).unwrap_err().to_string();
        assert_eq!(err, "sum: dimension 2 is out of range for shape [2, 3] (expected a dim in [-2, 1])");
    }
}
