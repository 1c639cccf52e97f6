//! Walking strided views one innermost row at a time, and the loops over one row.
//!
//! A kernel over strided views is a walk over their innermost rows, each a strided loop. The walk keeps an
//! index per outer dim and adds strides (no division per row), from any row, so that a chunk of rows on
//! another thread starts where it should. The row loops come in the stride patterns that broadcasting
//! makes — every operand contiguous along the row, or one of them a single value repeated (stride 0) — as
//! plain slice loops the compiler vectorises, and a general indexed loop for the rest. Every pattern
//! applies the same function to the same elements in the same order, so the pattern a row takes never
//! changes a result.

use super::{vectorized, CHUNK, PARALLEL_ABOVE};
use crate::element::Element;
use crate::shape::{Dims, Layout};
use rayon::prelude::*;
use smallvec::SmallVec;

/// The length of a view's innermost rows (1 for a scalar).
pub(super) fn row_len(layout: &Layout) -> usize {
    layout.shape.last().copied().unwrap_or(1)
}

/// The stride of a view's innermost rows (1 for a scalar).
pub(super) fn last_stride(layout: &Layout) -> usize {
    layout.strides.last().copied().unwrap_or(1)
}

/// The number of innermost rows of a view: the product of its outer dims (1 for a scalar), which rows of
/// length 0 do not change.
pub(super) fn rows(layout: &Layout) -> usize {
    layout.shape.split_last().map_or(1, |(_, outer)| outer.iter().product())
}

/// Calls `f(offsets, len)` for each innermost row of `N` views of one shape, in row-major order,
/// `offsets[i]` being the storage offset of the row's first element in view `i`; the rows' element strides
/// are the views' last strides. Inlined, so that `f`'s loop is compiled for the instruction set of the
/// kernel calling it.
#[inline(always)]
pub(super) fn for_each_row<const N: usize>(views: [&Layout; N], f: impl FnMut([usize; N], usize)) {
    for_each_row_in(views, 0, rows(views[0]), f)
}

/// [`for_each_row`] over `count` rows from row `first`.
#[inline(always)]
pub(super) fn for_each_row_in<const N: usize>(
    views: [&Layout; N],
    first: usize,
    count: usize,
    mut f: impl FnMut([usize; N], usize),
) {
    let shape = &views[0].shape;
    let rank = shape.len();
    let mut offsets = views.map(|l| l.offset);
    if rank == 0 {
        if count > 0 {
            f(offsets, 1);
        }
        return;
    }
    let len = shape[rank - 1];
    if len == 0 || count == 0 || shape.contains(&0) {
        return;
    }
    // The index of row `first` in the outer dims, and the offsets there: the one division per walk.
    let mut index: Dims = SmallVec::from_elem(0, rank - 1);
    let mut row = first;
    for d in (0..rank - 1).rev() {
        index[d] = row % shape[d];
        row /= shape[d];
        for v in 0..N {
            offsets[v] += index[d] * views[v].strides[d];
        }
    }
    for left in (0..count).rev() {
        f(offsets, len);
        if left == 0 {
            return;
        }
        let mut dim = rank - 1;
        loop {
            if dim == 0 {
                return;
            }
            dim -= 1;
            index[dim] += 1;
            for v in 0..N {
                offsets[v] += views[v].strides[dim];
            }
            if index[dim] < shape[dim] {
                break;
            }
            for v in 0..N {
                offsets[v] -= views[v].strides[dim] * index[dim];
            }
            index[dim] = 0;
        }
    }
}

/// Fills `out`, row-major over the shape of the views, one innermost row at a time: `fill(row, offsets)`.
/// Large outputs are split into chunks of rows filled on rayon's threads.
#[inline(always)]
pub(super) fn fill_rows<T: Element, const N: usize>(
    out: &mut [T],
    views: [&Layout; N],
    fill: impl Fn(&mut [T], [usize; N]) + Sync,
) {
    let len = row_len(views[0]);
    if len == 0 || out.is_empty() {
        return;
    }
    if out.len() < PARALLEL_ABOVE {
        return vectorized(
            #[inline(always)]
            || fill_chunk(views, 0, out, len, &fill),
        );
    }
    let rows_per_chunk = CHUNK.div_ceil(len);
    out.par_chunks_mut(rows_per_chunk * len).enumerate().for_each(|(chunk, rows)| {
        vectorized(
            #[inline(always)]
            || fill_chunk(views, chunk * rows_per_chunk, rows, len, &fill),
        )
    });
}

/// Fills `chunk`, the rows of `len` elements from row `first` on: see [`fill_rows`].
#[inline(always)]
fn fill_chunk<T, const N: usize>(
    views: [&Layout; N],
    first: usize,
    chunk: &mut [T],
    len: usize,
    fill: &impl Fn(&mut [T], [usize; N]),
) {
    let count = chunk.len() / len;
    let mut rows = chunk.chunks_mut(len);
    for_each_row_in(
        views,
        first,
        count,
        #[inline(always)]
        |offsets, _| fill(rows.next().expect("one output row per view row"), offsets),
    )
}

/// One operand's row: its buffer, the row's first element and its stride.
pub(super) type Operand<'a, T> = (&'a [T], usize, usize);

/// `out[j] = f(a[j])` over one row. (The loops index slices cut to the row's length rather than zip
/// iterators, and take the function by reference: an iterator adapter's `next` or `fold`, or the `Fn`
/// shim of a reference to the function, left out of line would run as compiled for the baseline, not for
/// the kernel's instruction set.)
#[inline(always)]
pub(super) fn map_row<T: Copy>(out: &mut [T], (a, oa, sa): Operand<'_, T>, f: &impl Fn(T) -> T) {
    let n = out.len();
    match sa {
        1 => {
            let a = &a[oa..oa + n];
            for j in 0..n {
                out[j] = f(a[j]);
            }
        }
        0 => {
            let x = a[oa];
            for o in out {
                *o = f(x);
            }
        }
        _ => {
            for j in 0..n {
                out[j] = f(a[oa + j * sa]);
            }
        }
    }
}

/// `out[j] = f(a[j], b[j])` over one row.
#[inline(always)]
pub(super) fn zip_row<T: Copy>(
    out: &mut [T],
    (a, oa, sa): Operand<'_, T>,
    (b, ob, sb): Operand<'_, T>,
    f: &impl Fn(T, T) -> T,
) {
    let n = out.len();
    match (sa, sb) {
        (1, 1) => {
            let (a, b) = (&a[oa..oa + n], &b[ob..ob + n]);
            for j in 0..n {
                out[j] = f(a[j], b[j]);
            }
        }
        (1, 0) => {
            let (a, y) = (&a[oa..oa + n], b[ob]);
            for j in 0..n {
                out[j] = f(a[j], y);
            }
        }
        (0, 1) => {
            let (x, b) = (a[oa], &b[ob..ob + n]);
            for j in 0..n {
                out[j] = f(x, b[j]);
            }
        }
        _ => {
            for j in 0..n {
                out[j] = f(a[oa + j * sa], b[ob + j * sb]);
            }
        }
    }
}

/// `out[j] = f(a[j], b[j], c[j])` over one row.
#[inline(always)]
pub(super) fn zip3_row<T: Copy>(
    out: &mut [T],
    (a, oa, sa): Operand<'_, T>,
    (b, ob, sb): Operand<'_, T>,
    (c, oc, sc): Operand<'_, T>,
    f: &impl Fn(T, T, T) -> T,
) {
    let n = out.len();
    match (sa, sb, sc) {
        (1, 1, 1) => {
            let (a, b, c) = (&a[oa..oa + n], &b[ob..ob + n], &c[oc..oc + n]);
            for j in 0..n {
                out[j] = f(a[j], b[j], c[j]);
            }
        }
        (1, 1, 0) => {
            let (a, b, z) = (&a[oa..oa + n], &b[ob..ob + n], c[oc]);
            for j in 0..n {
                out[j] = f(a[j], b[j], z);
            }
        }
        (1, 0, 1) => {
            let (a, y, c) = (&a[oa..oa + n], b[ob], &c[oc..oc + n]);
            for j in 0..n {
                out[j] = f(a[j], y, c[j]);
            }
        }
        (0, 1, 1) => {
            let (x, b, c) = (a[oa], &b[ob..ob + n], &c[oc..oc + n]);
            for j in 0..n {
                out[j] = f(x, b[j], c[j]);
            }
        }
        _ => {
            for j in 0..n {
                out[j] = f(a[oa + j * sa], b[ob + j * sb], c[oc + j * sc]);
            }
        }
    }
}

/// `x = f(x, s)` over one row of a destination (offset `od`, stride `sd`) and a source row.
#[inline(always)]
pub(super) fn update_row<T: Copy>(
    dst: &mut [T],
    od: usize,
    sd: usize,
    len: usize,
    s: Operand<'_, T>,
    f: &impl Fn(T, T) -> T,
) {
    let (src, os, ss) = s;
    match (sd, ss) {
        (1, 1) => {
            let (d, s) = (&mut dst[od..od + len], &src[os..os + len]);
            for j in 0..len {
                d[j] = f(d[j], s[j]);
            }
        }
        (1, 0) => {
            let (d, y) = (&mut dst[od..od + len], src[os]);
            for x in d {
                *x = f(*x, y);
            }
        }
        _ => {
            for j in 0..len {
                let x = &mut dst[od + j * sd];
                *x = f(*x, src[os + j * ss]);
            }
        }
    }
}
