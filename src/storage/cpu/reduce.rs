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

/// A contiguous slice reduced with 64 independent accumulators: enough separate chains to keep the vector
/// units busy instead of waiting on each operation's latency (and, for sums, more accurate than one running
/// sum, since each accumulator sees a 64th of the terms). The accumulators are then combined pairwise.
///
/// The order of operations is fixed by the slice's length alone: accumulator `i` takes elements `i`,
/// `i + 64`, ... in turn, whatever the vector width the loop is compiled for, so a sum gives the same bits
/// on every instruction set.
#[inline(always)]
fn reduce_slice<T: Element>(xs: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [identity; LANES];
    let full = xs.len() / LANES * LANES;
    for c in 0..full / LANES {
        let chunk = &xs[c * LANES..(c + 1) * LANES];
        for j in 0..LANES {
            acc[j] = f(acc[j], chunk[j]);
        }
    }
    let mut total = combine_lanes(acc, &f);
    for &x in &xs[full..] {
        total = f(total, x);
    }
    total
}

const LANES: usize = 64;

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
            let partial: Vec<T> = xs
                .par_chunks(CHUNK)
                .map(|c| {
                    vectorized(
                        #[inline(always)]
                        || reduce_slice(c, identity, f),
                    )
                })
                .collect();
            return filled(1, reduce_slice(&partial, identity, f));
        }
        return filled(
            1,
            vectorized(
                #[inline(always)]
                || reduce_slice(xs, identity, f),
            ),
        );
    }
    let rank = layout.shape.len();
    if rank > 0
        && layout.is_contiguous()
        && out_shape[rank - 1] == 1
        && out_shape[..rank - 1] == layout.shape[..rank - 1]
    {
        let xs = &data[layout.offset..layout.offset + layout.numel()];
        return reduce_last_dim(xs, rows(layout), row_len(layout), identity, f);
    }
    // The output seen with the input's shape: reduced dims get stride 0, so each input element lands on
    // the output element it reduces into.
    let target = Layout::contiguous(out_shape).broadcast_to(&layout.shape);
    let len = row_len(layout);
    let view = RowsInto { data, layout, target: &target, identity, f };
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
                vectorized(
                    #[inline(always)]
                    || view.add(&mut part, first, rows_per_chunk.min(rows - first)),
                );
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
    vectorized(
        #[inline(always)]
        || view.add(&mut out, 0, rows),
    );
    out
}

/// A view reduced into an output laid over it (`target`: the output with the view's shape, stride 0 along
/// the reduced dims), row by row.
struct RowsInto<'a, T, F> {
    data: &'a [T],
    layout: &'a Layout,
    target: &'a Layout,
    identity: T,
    f: F,
}

impl<T: Element, F: Fn(T, T) -> T + Copy> RowsInto<'_, T, F> {
    /// Reduces `count` rows from row `first` into `out`, each row in order: folded into one value (a row
    /// along reduced dims), or combined element by element into a row of the output.
    #[inline(always)]
    fn add(&self, out: &mut [T], first: usize, count: usize) {
        let RowsInto { data, layout, target, identity, f } = *self;
        let (si, so) = (last_stride(layout), last_stride(target));
        for_each_row_in(
            [layout, target],
            first,
            count,
            #[inline(always)]
            |[oi, oo], len| {
                if so == 0 {
                    let mut row = identity;
                    if si == 1 {
                        for &x in &data[oi..oi + len] {
                            row = f(row, x);
                        }
                    } else {
                        for j in 0..len {
                            row = f(row, data[oi + j * si]);
                        }
                    }
                    out[oo] = f(out[oo], row);
                } else {
                    update_row(out, oo, so, len, (data, oi, si), &f);
                }
            },
        )
    }
}

/// The reduction of each of the `rows` rows of `len` elements of contiguous `xs`: `f(identity, row)`, the
/// row folded in order from `identity` (just `identity` for rows of length 0). Eight rows at a time, their folds interleaved: eight independent chains instead of
/// one waiting on each operation's latency, each in the order of a plain fold.
fn reduce_last_dim<T: Element>(
    xs: &[T],
    rows: usize,
    len: usize,
    identity: T,
    f: impl Fn(T, T) -> T + Sync + Copy,
) -> Vec<T> {
    const BLOCK: usize = 8;
    let mut out = filled(rows, identity);
    if len == 0 {
        return out;
    }
    if xs.len() < PARALLEL_ABOVE {
        vectorized(
            #[inline(always)]
            || fold_rows::<BLOCK, T>(xs, len, &mut out, identity, f),
        );
    } else {
        // Whole rows per task; each output is the same fold on any thread.
        let rows_per_chunk = CHUNK.div_ceil(len).next_multiple_of(BLOCK);
        out.par_chunks_mut(rows_per_chunk).zip(xs.par_chunks(rows_per_chunk * len)).for_each(|(out, xs)| {
            vectorized(
                #[inline(always)]
                || fold_rows::<BLOCK, T>(xs, len, out, identity, f),
            )
        });
    }
    out
}

/// `out[r] = f(identity, row r folded from identity)` for the rows of `len` elements of `xs`, `B` rows at a
/// time.
#[inline(always)]
fn fold_rows<const B: usize, T: Element>(xs: &[T], len: usize, out: &mut [T], identity: T, f: impl Fn(T, T) -> T) {
    let done = out.len() / B * B;
    for first in 0..done / B {
        let r0 = first * B;
        let block = &xs[r0 * len..(r0 + B) * len];
        let mut acc = [identity; B];
        for j in 0..len {
            for b in 0..B {
                acc[b] = f(acc[b], block[b * len + j]);
            }
        }
        for b in 0..B {
            out[r0 + b] = f(identity, acc[b]);
        }
    }
    for r in done..out.len() {
        let mut row = identity;
        for &x in &xs[r * len..(r + 1) * len] {
            row = f(row, x);
        }
        out[r] = f(identity, row);
    }
}

/// `a - b` for two contiguous slices into `out`, and the sum of the squared differences, accumulated in the
/// lanes and order of [`reduce_slice`], so it equals `sum((a - b)²)` computed in three passes, bit for bit.
#[inline(always)]
pub(super) fn sub_square_sum_slice<T: Element>(a: &[T], b: &[T], out: &mut [T]) -> T {
    let mut acc = [T::zero(); LANES];
    let n = out.len();
    let (a, b) = (&a[..n], &b[..n]);
    let full = n / LANES * LANES;
    for c in 0..full / LANES {
        let start = c * LANES;
        let (o, x, y) = (&mut out[start..start + LANES], &a[start..start + LANES], &b[start..start + LANES]);
        for j in 0..LANES {
            let d = x[j] - y[j];
            o[j] = d;
            acc[j] = acc[j] + d * d;
        }
    }
    let mut total = combine_lanes(acc, &|x, y| x + y);
    for i in full..n {
        let d = a[i] - b[i];
        out[i] = d;
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
                let got = reduce_last_dim(&xs, rows, len, identity, f);
                let want: Vec<f64> =
                    xs.chunks(len).map(|row| f(identity, row.iter().fold(identity, |s, &x| f(s, x)))).collect();
                let same = got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same && got.len() == rows, "{rows} rows of {len}");
            }
        }
        // Rows of length 0 reduce to the identity, one per row.
        assert_eq!(reduce_last_dim::<f64>(&[], 3, 0, 0.0, |a, b| a + b), vec![0.0; 3]);
    }
}
