//! Reductions of strided views: over every element, or down to a shape with size-1 dims, in an order fixed
//! by the shapes alone.

use super::rows::{for_each_row_in, last_stride, row_len, rows, update_row};
use super::{filled, vectorized, CHUNK, PARALLEL_ABOVE};
use crate::element::Element;
use crate::shape::Layout;
use crate::storage::pointwise::Map2;
use rayon::prelude::*;

/// A reduction of a view (see [`reduce_to`]) with the combine `f` and its identity.
pub(super) struct ReduceView<'a, T> {
    pub(super) data: &'a [T],
    pub(super) layout: &'a Layout,
    pub(super) out_shape: &'a [usize],
    pub(super) identity: T,
}

impl<T: Element> Map2<T> for ReduceView<'_, T> {
    type Output = Vec<T>;
    fn run<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        reduce_to(self.data, self.layout, self.out_shape, self.identity, f)
    }
}

/// A contiguous slice reduced with 32 independent accumulators: enough separate chains to keep the vector
/// units busy instead of waiting on each operation's latency (and, for sums, more accurate than one running
/// sum, since each accumulator sees a 32nd of the terms). The accumulators are then combined pairwise.
///
/// The order of operations is fixed by the slice's length alone: accumulator `i` takes elements `i`,
/// `i + 32`, ... in turn, whatever the vector width the loop is compiled for, so a sum gives the same bits
/// on every instruction set.
#[inline(always)]
fn reduce_slice<T: Element>(xs: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [identity; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = f(*a, x);
        }
    }
    tail.iter().fold(combine_lanes(acc, &f), |s, &x| f(s, x))
}

const LANES: usize = 32;

/// The accumulators of [`reduce_slice`] combined pairwise. Kept out of line: inlined, its pairings make the
/// compiler split the accumulators into pairs and vectorise the main loop two lanes wide.
#[inline(never)]
fn combine_lanes<T: Element>(mut acc: [T; LANES], f: &impl Fn(T, T) -> T) -> T {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = f(acc[i], acc[i + width]);
        }
    }
    acc[0]
}

/// Reduces a view over the dims where `out_shape` (same rank) has size 1, in an order fixed by the shapes
/// alone, so results do not depend on the thread count.
fn reduce_to<T: Element>(
    data: &[T],
    layout: &Layout,
    out_shape: &[usize],
    identity: T,
    f: impl Fn(T, T) -> T + Sync + Copy,
) -> Vec<T> {
    let out_numel = crate::shape::numel(out_shape);
    if out_numel == 1 && layout.is_contiguous() {
        let xs = &data[layout.offset..layout.offset + layout.numel()];
        if xs.len() >= PARALLEL_ABOVE {
            // Fixed chunks reduced in parallel, then their results in order: the same on any thread count.
            let partial: Vec<T> = xs.par_chunks(CHUNK).map(|c| vectorized(|| reduce_slice(c, identity, f))).collect();
            return filled(1, reduce_slice(&partial, identity, f));
        }
        return filled(1, vectorized(|| reduce_slice(xs, identity, f)));
    }
    let rank = layout.shape.len();
    if rank > 0
        && layout.is_contiguous()
        && out_shape[rank - 1] == 1
        && out_shape[..rank - 1] == layout.shape[..rank - 1]
    {
        let xs = &data[layout.offset..layout.offset + layout.numel()];
        return reduce_last_dim(xs, row_len(layout), identity, f);
    }
    // The output seen with the input's shape: reduced dims get stride 0, so each input element lands on
    // the output element it reduces into.
    let target = Layout::contiguous(out_shape).broadcast_to(&layout.shape);
    let (si, so) = (last_stride(layout), last_stride(&target));
    let len = row_len(layout);
    // Each row in order: folded into one value (a row along reduced dims), or added element by element
    // into a row of the output.
    let add_rows = |out: &mut [T], first: usize, count: usize| {
        for_each_row_in([layout, &target], first, count, |[oi, oo], _| {
            if so == 0 {
                let row = match si {
                    1 => data[oi..oi + len].iter().fold(identity, |s, &x| f(s, x)),
                    _ => (0..len).fold(identity, |s, j| f(s, data[oi + j * si])),
                };
                out[oo] = f(out[oo], row);
            } else {
                update_row(out, oo, so, len, (data, oi, si), f);
            }
        })
    };
    let n = layout.numel();
    let rows = rows(layout);
    let rows_per_chunk = CHUNK.div_ceil(len.max(1));
    let chunks = rows.div_ceil(rows_per_chunk);
    // Large inputs reduced to a small output (a bias gradient, say): each chunk of rows reduces into its own
    // partial output on some thread, and the partials are combined in chunk order.
    if n >= PARALLEL_ABOVE && chunks > 1 && out_numel * chunks <= n {
        let partials: Vec<Vec<T>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut part = vec![identity; out_numel];
                let first = c * rows_per_chunk;
                vectorized(|| add_rows(&mut part, first, rows_per_chunk.min(rows - first)));
                part
            })
            .collect();
        let mut out = filled(out_numel, identity);
        for part in partials {
            out.iter_mut().zip(part).for_each(|(o, p)| *o = f(*o, p));
        }
        return out;
    }
    let mut out = filled(out_numel, identity);
    vectorized(|| add_rows(&mut out, 0, rows));
    out
}

/// The reduction of each row of `len` elements of contiguous `xs`: `f(identity, row)`, the row folded in
/// order from `identity`. Eight rows at a time, their folds interleaved: eight independent chains instead of
/// one waiting on each operation's latency, each in the order of a plain fold.
fn reduce_last_dim<T: Element>(xs: &[T], len: usize, identity: T, f: impl Fn(T, T) -> T + Sync + Copy) -> Vec<T> {
    const BLOCK: usize = 8;
    let rows = xs.len().checked_div(len).unwrap_or(0);
    let mut out = filled(rows, identity);
    if len == 0 {
        return out;
    }
    let reduce = |xs: &[T], out: &mut [T]| {
        let done = out.len() / BLOCK * BLOCK;
        let mut blocks = out.chunks_exact_mut(BLOCK);
        for (o, block) in (&mut blocks).zip(xs.chunks_exact(BLOCK * len)) {
            let mut acc = [identity; BLOCK];
            for j in 0..len {
                for (b, a) in acc.iter_mut().enumerate() {
                    *a = f(*a, block[b * len + j]);
                }
            }
            o.iter_mut().zip(acc).for_each(|(o, a)| *o = f(identity, a));
        }
        for (o, row) in blocks.into_remainder().iter_mut().zip(xs[done * len..].chunks_exact(len)) {
            *o = f(identity, row.iter().fold(identity, |s, &x| f(s, x)));
        }
    };
    if xs.len() < PARALLEL_ABOVE {
        vectorized(|| reduce(xs, &mut out));
    } else {
        // Whole rows per task; each output is the same fold on any thread.
        let rows_per_chunk = CHUNK.div_ceil(len).next_multiple_of(BLOCK);
        out.par_chunks_mut(rows_per_chunk)
            .zip(xs.par_chunks(rows_per_chunk * len))
            .for_each(|(out, xs)| vectorized(|| reduce(xs, out)));
    }
    out
}

/// `a - b` for two contiguous slices into `out`, and the sum of the squared differences, accumulated in the
/// lanes and order of [`reduce_slice`], so it equals `sum((a - b)²)` computed in three passes, bit for bit.
#[inline(always)]
pub(super) fn sub_square_sum_slice<T: Element>(a: &[T], b: &[T], out: &mut [T]) -> T {
    let mut acc = [T::zero(); LANES];
    let full = out.len() / LANES * LANES;
    let (head, tail) = out.split_at_mut(full);
    for ((o, x), y) in head.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)).zip(b.chunks_exact(LANES)) {
        for j in 0..LANES {
            let d = x[j] - y[j];
            o[j] = d;
            acc[j] = acc[j] + d * d;
        }
    }
    let mut total = combine_lanes(acc, &|x, y| x + y);
    for ((o, &x), &y) in tail.iter_mut().zip(&a[full..]).zip(&b[full..]) {
        let d = x - y;
        *o = d;
        total = total + d * d;
    }
    total
}

/// The sum of the per-chunk results of a parallel reduction over chunks of [`CHUNK`], in chunk order.
pub(super) fn sum_partials<T: Element>(partial: &[T]) -> T {
    reduce_slice(partial, T::zero(), |x, y| x + y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row length around the blocks of eight, and a parallel size, against a plain fold per row.
    #[test]
    fn rows_reduce_as_plain_folds() {
        let max = |a: f64, b: f64| if a.is_nan() || a >= b { a } else { b };
        for (rows, len) in [(1, 1), (7, 3), (8, 10), (13, 1), (37, 32), (2050, 160)] {
            let mut xs: Vec<f64> = (0..rows * len).map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 60.0).collect();
            xs[len / 2] = f64::NAN;
            for (identity, f) in [(0.0, (|a, b| a + b) as fn(f64, f64) -> f64), (f64::NEG_INFINITY, max)] {
                let got = reduce_last_dim(&xs, len, identity, f);
                let want: Vec<f64> =
                    xs.chunks(len).map(|row| f(identity, row.iter().fold(identity, |s, &x| f(s, x)))).collect();
                let same = got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same && got.len() == rows, "{rows} rows of {len}");
            }
        }
    }
}
