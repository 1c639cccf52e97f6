//! Strided views as the kernels see them: a small `#[repr(C)]` struct passed by value, with dims merged
//! where the memory allows, plus the host-side checks that keep every kernel access inside its buffer.

use crate::error::{Error, Result};
use crate::shape::Layout;
use cudarc::driver::DeviceRepr;

/// The most dims a view may have after merging (kernels/common.cuh has the same `MAX_RANK`).
pub(crate) const MAX_RANK: usize = 8;

/// A strided view for the kernels, laid out exactly like `struct Strided` in kernels/common.cuh:
/// 8 + 8 `u64`, one `u64`, two `i32` — 144 bytes, 8-byte aligned, no padding.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Strided {
    shape: [u64; MAX_RANK],
    strides: [u64; MAX_RANK],
    offset: u64,
    rank: i32,
    /// 1 when element `i` sits at `offset + i`.
    contiguous: i32,
}

// SAFETY: `Strided` is `#[repr(C)]` plain data (u64 and i32 only, no pointers, no padding, every bit pattern
// valid) with the same field order, types and size as the C struct the kernels take by value, so the driver's
// byte copy of it is exactly the kernel parameter.
unsafe impl DeviceRepr for Strided {}

const _: () = assert!(std::mem::size_of::<Strided>() == 144 && std::mem::align_of::<Strided>() == 8);

/// Merges the dims of `N` views of one `shape` wherever every view allows it, and drops size-1 dims.
///
/// Dims `p` and `d` (consecutive among the kept ones) merge when `stride[p] == stride[d] * shape[d]` in every
/// view: then index `(i_p, i_d)` sits at `(i_p * shape[d] + i_d) * stride[d]`, one dim of size
/// `shape[p] * shape[d]`. Row-major order of the elements is unchanged. Broadcast dims (stride 0) merge with
/// each other too.
fn coalesce<const N: usize>(shape: &[usize], strides: [&[usize]; N]) -> (Vec<usize>, [Vec<usize>; N]) {
    let mut out_shape: Vec<usize> = Vec::with_capacity(shape.len());
    let mut out_strides: [Vec<usize>; N] = std::array::from_fn(|_| Vec::with_capacity(shape.len()));
    for (d, &size) in shape.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let mergeable =
            !out_shape.is_empty() && (0..N).all(|k| out_strides[k].last().copied() == strides[k][d].checked_mul(size));
        if mergeable {
            *out_shape.last_mut().expect("non-empty") *= size;
            for k in 0..N {
                *out_strides[k].last_mut().expect("non-empty") = strides[k][d];
            }
        } else {
            out_shape.push(size);
            for k in 0..N {
                out_strides[k].push(strides[k][d]);
            }
        }
    }
    (out_shape, out_strides)
}

impl Strided {
    const EMPTY: Strided = Strided { shape: [1; MAX_RANK], strides: [0; MAX_RANK], offset: 0, rank: 0, contiguous: 1 };

    /// A view from already-merged dims.
    fn pack(op: &'static str, shape: &[usize], strides: &[usize], offset: usize) -> Result<Self> {
        if shape.len() > MAX_RANK {
            return Err(Error::invalid(
                op,
                format!(
                    "the CUDA kernels support views of at most {MAX_RANK} dims after merging contiguous ones; \
                     this one has {} (merged shape {shape:?}, strides {strides:?})",
                    shape.len()
                ),
            ));
        }
        let mut s = Strided {
            offset: offset as u64,
            rank: shape.len() as i32,
            contiguous: i32::from(shape.is_empty() || (shape.len() == 1 && strides[0] == 1)),
            ..Self::EMPTY
        };
        for (d, (&size, &stride)) in shape.iter().zip(strides).enumerate() {
            s.shape[d] = size as u64;
            s.strides[d] = stride as u64;
        }
        Ok(s)
    }

    /// The view of `shape`/`strides` at `offset`, dims merged.
    pub fn from_dims(op: &'static str, shape: &[usize], strides: &[usize], offset: usize) -> Result<Self> {
        let (shape, [strides]) = coalesce(shape, [strides]);
        Self::pack(op, &shape, &strides, offset)
    }

    /// One layout, dims merged.
    pub fn of(op: &'static str, layout: &Layout) -> Result<Self> {
        Self::from_dims(op, &layout.shape, &layout.strides, layout.offset)
    }

    /// `N` layouts of one shape, merged jointly so that element `i` means the same index in each.
    pub fn joint<const N: usize>(op: &'static str, layouts: [&Layout; N]) -> Result<[Self; N]> {
        let shape = &layouts[0].shape;
        if let Some(other) = layouts.iter().find(|l| &l.shape != shape) {
            return Err(Error::shape(op, format!("views of shapes {shape:?} and {:?} do not match", other.shape)));
        }
        let (merged, strides) = coalesce::<N>(shape, std::array::from_fn(|k| &layouts[k].strides[..]));
        let mut out = [Self::EMPTY; N];
        for (k, view) in out.iter_mut().enumerate() {
            *view = Self::pack(op, &merged, &strides[k], layouts[k].offset)?;
        }
        Ok(out)
    }
}

/// Fails unless every element of the view lies inside a buffer of `len` elements.
pub(crate) fn check_in_bounds(op: &'static str, layout: &Layout, len: usize) -> Result<()> {
    if layout.shape.len() != layout.strides.len() {
        return Err(Error::invalid(op, format!("layout {layout:?} does not have one stride per dim")));
    }
    if layout.numel() == 0 {
        return Ok(());
    }
    let last = layout.shape.iter().zip(&layout.strides).try_fold(layout.offset, |acc, (&size, &stride)| {
        (size - 1).checked_mul(stride).and_then(|step| acc.checked_add(step))
    });
    match last {
        Some(last) if last < len => Ok(()),
        _ => Err(Error::invalid(
            op,
            format!(
                "view (shape {:?}, strides {:?}, offset {}) exceeds its buffer of {len} elements",
                layout.shape, layout.strides, layout.offset
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(shape: &[usize], strides: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let (s, [st]) = coalesce(shape, [strides]);
        (s, st)
    }

    #[test]
    fn contiguous_views_merge_to_one_dim() {
        assert_eq!(merged(&[2, 3, 4], &[12, 4, 1]), (vec![24], vec![1]));
        let s = Strided::of("t", &Layout::contiguous(&[2, 3, 4])).unwrap();
        assert_eq!((s.rank, s.contiguous), (1, 1));
        let scalar = Strided::of("t", &Layout::contiguous(&[])).unwrap();
        assert_eq!((scalar.rank, scalar.contiguous), (0, 1));
    }

    #[test]
    fn transposed_and_broadcast_views_keep_their_dims() {
        assert_eq!(merged(&[3, 2], &[1, 3]), (vec![3, 2], vec![1, 3]));
        // A [3] vector broadcast to [4, 2, 3]: the stretched dims merge into one stride-0 dim.
        assert_eq!(merged(&[4, 2, 3], &[0, 0, 1]), (vec![8, 3], vec![0, 1]));
        // Size-1 dims vanish whatever their stride.
        assert_eq!(merged(&[1, 5, 1], &[99, 1, 7]), (vec![5], vec![1]));
        // A narrowed row block stays strided.
        assert_eq!(merged(&[2, 3], &[5, 1]), (vec![2, 3], vec![5, 1]));
    }

    #[test]
    fn joint_merging_respects_every_view() {
        let a = Layout::contiguous(&[4, 3]);
        let b = Layout::contiguous(&[3]).broadcast_to(&[4, 3]);
        let [sa, sb] = Strided::joint("t", [&a, &b]).unwrap();
        assert_eq!((sa.rank, sa.contiguous, sb.rank), (2, 0, 2));
        assert_eq!((&sa.strides[..2], &sb.strides[..2]), (&[3, 1][..], &[0, 1][..]));
        let [sa, sc] = Strided::joint("t", [&a, &a.clone()]).unwrap();
        assert_eq!((sa.rank, sa.contiguous, sc.contiguous), (1, 1, 1));
    }

    #[test]
    fn too_many_dims_after_merging_is_an_error() {
        let shape = [2; 9];
        let mut layout = Layout::contiguous(&shape);
        // Strides 3^8, ..., 3, 1 over sizes of 2: no two dims merge.
        for (d, s) in layout.strides.iter_mut().enumerate() {
            *s = 3usize.pow(8 - d as u32);
        }
        let err = Strided::of("add", &layout).unwrap_err().to_string();
        assert!(err.starts_with("add: the CUDA kernels support views of at most 8 dims"), "{err}");
        assert!(Strided::of("add", &Layout::contiguous(&shape)).is_ok());
    }

    #[test]
    fn bounds_and_overlap_checks() {
        let l = Layout::contiguous(&[2, 3]);
        assert!(check_in_bounds("t", &l, 6).is_ok());
        assert!(check_in_bounds("t", &l, 5).is_err());
        assert!(check_in_bounds("t", &l.narrow(0, 1, 1), 6).is_ok());
        assert!(check_in_bounds("t", &Layout::contiguous(&[0, 3]), 0).is_ok());
    }
}
