//! Softmax and log-softmax along the innermost dim, and their gradients, over contiguous rows.
//!
//! A chunk of rows (the whole tensor, below the parallel split) is visited a few times while it is in
//! cache: row maxima and shifted logits, one exponential loop over the whole chunk (a classifier's rows of
//! ten are too short to fill a vector on their own), row sums and outputs. The backend's default
//! (`softmax_in_passes`) takes six passes, each writing a fresh buffer. The arithmetic is the
//! default's, operation for operation: the same
//! maximum (NaN wins, as `ReduceOp::Max`), `exp` and `ln`, and the sums folded in row order from 0 as
//! `reduce_to` folds a row. The two give the same bits (`tests::rows_match_the_passes`).

use super::{filled, vectorized, CHUNK, PARALLEL_ABOVE};
use crate::element::Element;
use rayon::prelude::*;

/// `ReduceOp::Max`'s combine: NaN wins, then the larger.
#[inline(always)]
fn max<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || a >= b {
        a
    } else {
        b
    }
}

/// The sum of a row folded in order from 0, as `reduce_to` reduces one row.
#[inline(always)]
fn row_sum<T: Element>(row: &[T]) -> T {
    let mut total = T::zero();
    for &x in row {
        total = total + x;
    }
    T::zero() + total
}

/// `out[j] = exp(x[j])` over a whole chunk: one long loop the compiler vectorises across rows, where a
/// classifier's rows (ten logits, say) are too short to fill a vector.
#[inline(always)]
fn exp_into<T: Element>(x: &[T], out: &mut [T]) {
    let out = &mut out[..x.len()];
    for j in 0..x.len() {
        out[j] = x[j].vexp();
    }
}

/// Softmax (`log`: log-softmax) of the rows of `len` elements of `x` into `out`, `scratch` as long.
#[inline(always)]
fn forward_chunk<T: Element>(x: &[T], len: usize, out: &mut [T], scratch: &mut [T], log: bool) {
    // The shifted logits z = x − max, row by row.
    for (x, z) in x.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
        let mut m = T::neg_infinity();
        for &v in x {
            m = max(m, v);
        }
        let m = max(T::neg_infinity(), m);
        for j in 0..len {
            z[j] = x[j] - m;
        }
    }
    if log {
        exp_into(out, scratch);
        for (z, e) in out.chunks_exact_mut(len).zip(scratch.chunks_exact(len)) {
            let log_total = row_sum(e).ln();
            for v in z.iter_mut() {
                *v = *v - log_total;
            }
        }
    } else {
        scratch[..out.len()].copy_from_slice(out);
        exp_into(scratch, out);
        for e in out.chunks_exact_mut(len) {
            let total = row_sum(e);
            for v in e.iter_mut() {
                *v = *v / total;
            }
        }
    }
}

/// The gradient of the rows of `len` elements from outputs `y` and incoming gradients `g`, into `out`.
#[inline(always)]
fn grad_chunk<T: Element>(y: &[T], g: &[T], len: usize, out: &mut [T], log: bool) {
    if log {
        exp_into(y, out);
        for (g, out) in g.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
            let total = row_sum(g);
            for j in 0..len {
                out[j] = g[j] - out[j] * total;
            }
        }
    } else {
        for ((y, g), out) in y.chunks_exact(len).zip(g.chunks_exact(len)).zip(out.chunks_exact_mut(len)) {
            let mut total = T::zero();
            for j in 0..len {
                total = total + g[j] * y[j];
            }
            let total = T::zero() + total;
            for j in 0..len {
                out[j] = y[j] * (g[j] - total);
            }
        }
    }
}

/// An output of `n` elements written by `chunk(first, out)` over whole rows of `len` elements, on rayon's
/// threads for large outputs; `first` is the index of the chunk's first element.
fn by_rows<T: Element>(n: usize, len: usize, chunk: impl Fn(usize, &mut [T]) + Sync) -> Vec<T> {
    let mut out = filled(n, T::zero());
    if len == 0 {
        return out;
    }
    if n >= PARALLEL_ABOVE {
        let per_task = CHUNK.div_ceil(len) * len;
        out.par_chunks_mut(per_task).enumerate().for_each(|(i, out)| chunk(i * per_task, out));
    } else {
        chunk(0, &mut out);
    }
    out
}

/// Softmax (`log`: log-softmax) of each row of `len` elements of contiguous `x`.
pub(super) fn softmax_rows<T: Element>(x: &[T], len: usize, log: bool) -> Vec<T> {
    by_rows(x.len(), len, |first, out| {
        let mut scratch = filled(out.len(), T::zero());
        let x = &x[first..first + out.len()];
        vectorized(
            #[inline(always)]
            || forward_chunk(x, len, out, &mut scratch, log),
        );
        super::cache::give(scratch);
    })
}

/// The gradient of each row of `len` elements, from contiguous outputs `y` and incoming gradients `g`.
pub(super) fn softmax_grad_rows<T: Element>(y: &[T], g: &[T], len: usize, log: bool) -> Vec<T> {
    by_rows(y.len(), len, |first, out| {
        let range = first..first + out.len();
        let (y, g) = (&y[range.clone()], &g[range]);
        vectorized(
            #[inline(always)]
            || grad_chunk(y, g, len, out, log),
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::error::Result;
    use crate::shape::Layout;
    use crate::storage::backend::{softmax_grad_in_passes, softmax_in_passes, BackendStorage};
    use crate::storage::cpu::CpuStorage;

    /// The one-visit rows against the default's passes, bit for bit, on rows with ties, ±∞ and NaN, at a
    /// size past the parallel split and on strided views (which take the passes).
    #[test]
    fn rows_match_the_passes() -> Result<()> {
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| (((i * 7919 + seed) % 1009) as f32 - 500.0) / 37.0 + 0.013).collect()
        };
        let mut special = values(40, 1);
        special[3] = f32::INFINITY;
        special[12..16].fill(f32::NEG_INFINITY);
        special[21] = f32::NAN;
        special[30] = 1e30;
        let cases = [
            (CpuStorage(special), Layout::contiguous(&[5, 8])),
            (CpuStorage(values(1 << 19, 2)), Layout::contiguous(&[1 << 12, 1 << 7])),
            (CpuStorage(values(7, 3)), Layout::contiguous(&[7])),
            (CpuStorage(values(80, 3)), Layout::contiguous(&[1, 40])),
            (CpuStorage(values(80, 3)), Layout::contiguous(&[2, 40])),
            (CpuStorage(values(35, 4)), Layout::contiguous(&[5, 7]).transpose(0, 1)),
            (CpuStorage(Vec::new()), Layout::contiguous(&[3, 0])),
        ];
        for (x, layout) in cases {
            let g = CpuStorage(values(layout.numel(), 5));
            let g_layout = Layout::contiguous(&layout.shape);
            let dim = layout.shape.len() - 1;
            for log in [false, true] {
                let y = x.softmax(&layout, dim, log)?;
                let want = softmax_in_passes(&x, &layout, dim, log)?;
                let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same(&y.0, &want.0) && y.0.len() == want.0.len(), "log {log}, {layout:?}");
                let y_layout = Layout::contiguous(&layout.shape);
                let grad = y.softmax_grad(&y_layout, &g, &g_layout, dim, log)?;
                let want = softmax_grad_in_passes(&y, &y_layout, &g, &g_layout, dim, log)?;
                assert!(same(&grad.0, &want.0), "gradient, log {log}, {layout:?}");
            }
        }
        Ok(())
    }
}
