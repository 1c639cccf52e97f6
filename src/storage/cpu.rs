//! CPU kernels over strided views of a `Vec<T>`: elementwise maps, broadcasting zips, reductions, GEMM.
//!
//! Every kernel has a fast path for contiguous operands and a general path that walks the view row by row,
//! so the inner loop is a plain strided loop the compiler can vectorise.

use super::{BinaryOp, UnaryOp};
use crate::element::Element;
use crate::shape::{Dims, Layout};
use rayon::prelude::*;
use smallvec::SmallVec;

/// Contiguous elementwise kernels and full sums over at least this many elements split the work across
/// rayon's threads; below it, the split costs more than it saves.
const PARALLEL_ABOVE: usize = 1 << 18;

/// Calls `f(offset_a, offset_b, len)` for each innermost row of two views of the same shape; the rows are
/// walked in row-major order and their element strides are the views' last strides.
fn for_each_row(a: &Layout, b: &Layout, mut f: impl FnMut(usize, usize, usize)) {
    let rank = a.shape.len();
    if rank == 0 {
        f(a.offset, b.offset, 1);
        return;
    }
    let len = a.shape[rank - 1];
    if len == 0 || a.shape.contains(&0) {
        return;
    }
    let mut index: Dims = SmallVec::from_elem(0, rank - 1);
    let (mut oa, mut ob) = (a.offset, b.offset);
    loop {
        f(oa, ob, len);
        let mut dim = rank - 1;
        loop {
            if dim == 0 {
                return;
            }
            dim -= 1;
            index[dim] += 1;
            oa += a.strides[dim];
            ob += b.strides[dim];
            if index[dim] < a.shape[dim] {
                break;
            }
            oa -= a.strides[dim] * index[dim];
            ob -= b.strides[dim] * index[dim];
            index[dim] = 0;
        }
    }
}

/// The storage offset of the first element of innermost row `row` (rows counted row-major), so that chunks
/// of rows can be walked independently, on several threads.
fn row_start(layout: &Layout, mut row: usize) -> usize {
    let mut offset = layout.offset;
    for d in (0..layout.shape.len().saturating_sub(1)).rev() {
        let size = layout.shape[d];
        offset += (row % size) * layout.strides[d];
        row /= size;
    }
    offset
}

/// The length of a view's innermost rows (1 for a scalar).
fn row_len(layout: &Layout) -> usize {
    layout.shape.last().copied().unwrap_or(1)
}

/// Fills `out`, row-major over the shape of the views `a` and `b`, one innermost row at a time:
/// `fill(row, offset_a, offset_b)`. Large outputs are split into chunks of rows filled on rayon's threads.
fn fill_rows<T: Element>(out: &mut [T], a: &Layout, b: &Layout, fill: impl Fn(&mut [T], usize, usize) + Sync) {
    let len = row_len(a);
    if len == 0 || out.is_empty() {
        return;
    }
    if out.len() < PARALLEL_ABOVE {
        let mut rows = out.chunks_mut(len);
        for_each_row(a, b, |oa, ob, _| fill(rows.next().expect("one output row per view row"), oa, ob));
        return;
    }
    let rows_per_chunk = (PARALLEL_ABOVE / 4).div_ceil(len);
    out.par_chunks_mut(rows_per_chunk * len).enumerate().for_each(|(chunk, rows)| {
        for (i, row) in rows.chunks_mut(len).enumerate() {
            let r = chunk * rows_per_chunk + i;
            fill(row, row_start(a, r), row_start(b, r));
        }
    });
}

fn last_stride(layout: &Layout) -> usize {
    layout.strides.last().copied().unwrap_or(1)
}

/// The elements of a view mapped through `f`, contiguous.
fn map<T: Element>(data: &[T], layout: &Layout, f: impl Fn(T) -> T + Sync) -> Vec<T> {
    let n = layout.numel();
    if layout.is_contiguous() {
        let xs = &data[layout.offset..layout.offset + n];
        if n >= PARALLEL_ABOVE {
            let mut out = Vec::with_capacity(n);
            xs.par_iter().with_min_len(PARALLEL_ABOVE / 4).map(|&x| f(x)).collect_into_vec(&mut out);
            return out;
        }
        return xs.iter().map(|&x| f(x)).collect();
    }
    let mut out = vec![T::zero(); n];
    let stride = last_stride(layout);
    fill_rows(&mut out, layout, layout, |row, o, _| {
        for (j, x) in row.iter_mut().enumerate() {
            *x = f(data[o + j * stride]);
        }
    });
    out
}

pub(crate) fn unary<T: Element>(data: &[T], layout: &Layout, op: UnaryOp<T>) -> Vec<T> {
    let zero = T::zero();
    match op {
        UnaryOp::Identity => map(data, layout, |x| x),
        UnaryOp::Neg => map(data, layout, |x| -x),
        UnaryOp::Square => map(data, layout, |x| x * x),
        UnaryOp::Sqrt => map(data, layout, |x| x.sqrt()),
        UnaryOp::Exp => map(data, layout, |x| x.exp()),
        UnaryOp::Log => map(data, layout, |x| x.ln()),
        UnaryOp::Abs => map(data, layout, |x| x.abs()),
        // torch.sign: 0 at 0 (and NaN at NaN), unlike f64::signum.
        UnaryOp::Sign => map(data, layout, |x| {
            if x > zero {
                T::one()
            } else if x < zero {
                -T::one()
            } else {
                x
            }
        }),
        UnaryOp::Powf(p) => map(data, layout, |x| x.powf(p)),
        UnaryOp::Add(c) => map(data, layout, |x| x + c),
        UnaryOp::Mul(c) => map(data, layout, |x| x * c),
        UnaryOp::RSub(c) => map(data, layout, |x| c - x),
        UnaryOp::RDiv(c) => map(data, layout, |x| c / x),
        UnaryOp::Div(c) => map(data, layout, |x| x / c),
        UnaryOp::Fill(c) => vec![c; layout.numel()],
    }
}

fn zip<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    let n = la.numel();
    if la.is_contiguous() && lb.is_contiguous() {
        let (a, b) = (&a[la.offset..la.offset + n], &b[lb.offset..lb.offset + n]);
        if n >= PARALLEL_ABOVE {
            let mut out = Vec::with_capacity(n);
            a.par_iter().zip(b).with_min_len(PARALLEL_ABOVE / 4).map(|(&x, &y)| f(x, y)).collect_into_vec(&mut out);
            return out;
        }
        return a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect();
    }
    let mut out = vec![T::zero(); n];
    let (sa, sb) = (last_stride(la), last_stride(lb));
    fill_rows(&mut out, la, lb, |row, oa, ob| {
        if sb == 0 {
            let y = b[ob];
            for (j, x) in row.iter_mut().enumerate() {
                *x = f(a[oa + j * sa], y);
            }
        } else {
            for (j, x) in row.iter_mut().enumerate() {
                *x = f(a[oa + j * sa], b[ob + j * sb]);
            }
        }
    });
    out
}

pub(crate) fn binary<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, op: BinaryOp) -> Vec<T> {
    match op {
        BinaryOp::Add => zip(a, la, b, lb, |x, y| x + y),
        BinaryOp::Sub => zip(a, la, b, lb, |x, y| x - y),
        BinaryOp::Mul => zip(a, la, b, lb, |x, y| x * y),
        BinaryOp::Div => zip(a, la, b, lb, |x, y| x / y),
    }
}

/// Sum of a contiguous slice with 32 independent accumulators: enough separate add chains to keep the
/// vector units busy instead of waiting on each add's latency, and more accurate than one running sum since
/// each accumulator sees a 32nd of the terms. The accumulators are then added pairwise.
fn sum_slice<T: Element>(xs: &[T]) -> T {
    const LANES: usize = 32;
    let mut acc = [T::zero(); LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = *a + x;
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
    }
    tail.iter().fold(acc[0], |s, &x| s + x)
}

pub(crate) fn sum_to<T: Element>(data: &[T], layout: &Layout, out_shape: &[usize]) -> Vec<T> {
    let out_numel = crate::shape::numel(out_shape);
    if out_numel == 1 && layout.is_contiguous() {
        let xs = &data[layout.offset..layout.offset + layout.numel()];
        if xs.len() >= PARALLEL_ABOVE {
            // Fixed chunks summed in parallel, then their sums in order: the same result on any thread count.
            let partial: Vec<T> = xs.par_chunks(PARALLEL_ABOVE / 4).map(sum_slice).collect();
            return vec![sum_slice(&partial)];
        }
        return vec![sum_slice(xs)];
    }
    // The output seen with the input's shape: reduced dims get stride 0, so each input element lands on
    // the output element it sums into.
    let target = Layout::contiguous(out_shape).broadcast_to(&layout.shape);
    let (si, so) = (last_stride(layout), last_stride(&target));
    let len = row_len(layout);
    let add_row = |out: &mut [T], oi: usize, oo: usize| {
        if so == 0 {
            let row: T = (0..len).fold(T::zero(), |s, j| s + data[oi + j * si]);
            out[oo] = out[oo] + row;
        } else {
            for j in 0..len {
                out[oo + j * so] = out[oo + j * so] + data[oi + j * si];
            }
        }
    };
    let n = layout.numel();
    let rows = n.checked_div(len).unwrap_or(0);
    let rows_per_chunk = (PARALLEL_ABOVE / 4).div_ceil(len.max(1));
    let chunks = rows.div_ceil(rows_per_chunk);
    // Large inputs reduced to a small output (a bias gradient, say): each chunk of rows sums into its own
    // partial output on some thread, and the partials are added in chunk order, the same on any thread count.
    if n >= PARALLEL_ABOVE && chunks > 1 && out_numel * chunks <= n {
        let partials: Vec<Vec<T>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut part = vec![T::zero(); out_numel];
                for r in c * rows_per_chunk..((c + 1) * rows_per_chunk).min(rows) {
                    add_row(&mut part, row_start(layout, r), row_start(&target, r));
                }
                part
            })
            .collect();
        let mut out = vec![T::zero(); out_numel];
        for part in partials {
            out.iter_mut().zip(part).for_each(|(o, p)| *o = *o + p);
        }
        return out;
    }
    let mut out = vec![T::zero(); out_numel];
    for_each_row(layout, &target, |oi, oo, _| add_row(&mut out, oi, oo));
    out
}

/// Products with at most this many multiply-adds skip the GEMM (`m * k * n`).
const SMALL_GEMM: usize = 4096;

pub(crate) fn matmul<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    let mut out = vec![T::zero(); m * n];
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    if m * k * n <= SMALL_GEMM {
        // Below this size the GEMM's packing and dispatch cost more than the arithmetic.
        let (a_rows, a_cols, b_rows, b_cols) = (la.strides[0], la.strides[1], lb.strides[0], lb.strides[1]);
        for i in 0..m {
            for j in 0..n {
                let (a0, b0) = (la.offset + i * a_rows, lb.offset + j * b_cols);
                out[i * n + j] = (0..k).fold(T::zero(), |acc, p| acc + a[a0 + p * a_cols] * b[b0 + p * b_rows]);
            }
        }
        return out;
    }
    // Check that both views lie inside their buffers before handing raw pointers to the GEMM.
    let last = |l: &Layout| l.offset + (l.shape[0] - 1) * l.strides[0] + (l.shape[1] - 1) * l.strides[1];
    assert!(last(la) < a.len() && last(lb) < b.len(), "matmul: view exceeds its storage");
    let stride = |s: usize| s as isize;
    // SAFETY: the asserts above keep every strided read of A and B inside `a` and `b`; C is the fresh,
    // contiguous m x n buffer `out`, which overlaps neither input.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            a.as_ptr().add(la.offset),
            stride(la.strides[0]),
            stride(la.strides[1]),
            b.as_ptr().add(lb.offset),
            stride(lb.strides[0]),
            stride(lb.strides[1]),
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    out
}

pub(crate) fn index_select0<T: Element>(data: &[T], layout: &Layout, indices: &[usize]) -> Vec<T> {
    let row_len = crate::shape::numel(&layout.shape[1..]);
    let mut out = Vec::with_capacity(indices.len() * row_len);
    for &i in indices {
        let row = layout.narrow(0, i, 1);
        if row.is_contiguous() {
            out.extend_from_slice(&data[row.offset..row.offset + row_len]);
        } else {
            out.extend(map(data, &row, |x| x));
        }
    }
    out
}

pub(crate) fn index_add0<T: Element>(dst: &mut [T], row_len: usize, src: &[T], layout: &Layout, indices: &[usize]) {
    let src = map(src, layout, |x| x);
    for (row, &i) in src.chunks_exact(row_len.max(1)).zip(indices) {
        for (d, &s) in dst[i * row_len..(i + 1) * row_len].iter_mut().zip(row) {
            *d = *d + s;
        }
    }
}

fn assign_with<T: Element>(dst: &mut [T], ld: &Layout, src: &[T], ls: &Layout, f: impl Fn(T, T) -> T + Sync) {
    let n = ld.numel();
    if ld.is_contiguous() && ls.is_contiguous() {
        let (d, src) = (&mut dst[ld.offset..ld.offset + n], &src[ls.offset..ls.offset + n]);
        if n >= PARALLEL_ABOVE {
            d.par_iter_mut().zip(src).with_min_len(PARALLEL_ABOVE / 4).for_each(|(x, &y)| *x = f(*x, y));
            return;
        }
        for (x, &y) in d.iter_mut().zip(src) {
            *x = f(*x, y);
        }
        return;
    }
    let (sd, ss) = (last_stride(ld), last_stride(ls));
    for_each_row(ld, ls, |od, os, len| {
        for j in 0..len {
            let x = &mut dst[od + j * sd];
            *x = f(*x, src[os + j * ss]);
        }
    });
}

pub(crate) fn assign<T: Element>(dst: &mut [T], ld: &Layout, src: &[T], ls: &Layout, op: Option<BinaryOp>) {
    match op {
        None => assign_with(dst, ld, src, ls, |_, y| y),
        Some(BinaryOp::Add) => assign_with(dst, ld, src, ls, |x, y| x + y),
        Some(BinaryOp::Sub) => assign_with(dst, ld, src, ls, |x, y| x - y),
        Some(BinaryOp::Mul) => assign_with(dst, ld, src, ls, |x, y| x * y),
        Some(BinaryOp::Div) => assign_with(dst, ld, src, ls, |x, y| x / y),
    }
}

pub(crate) fn map_inplace<T: Element>(dst: &mut [T], ld: &Layout, op: UnaryOp<T>) {
    let stride = last_stride(ld);
    let mut apply = |f: &dyn Fn(T) -> T| {
        if ld.is_contiguous() {
            dst[ld.offset..ld.offset + ld.numel()].iter_mut().for_each(|x| *x = f(*x));
        } else {
            for_each_row(ld, ld, |o, _, len| (0..len).for_each(|j| dst[o + j * stride] = f(dst[o + j * stride])));
        }
    };
    match op {
        UnaryOp::Fill(c) => apply(&|_| c),
        UnaryOp::Mul(c) => apply(&|x| x * c),
        UnaryOp::Add(c) => apply(&|x| x + c),
        // The remaining maps have no in-place use; compute them out of place and copy back.
        other => {
            let values = unary(dst, ld, other);
            assign_with(dst, ld, &values, &Layout::contiguous(&ld.shape), |_, y| y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_kernels_match_plain_loops() {
        let n = PARALLEL_ABOVE * 2 + 3;
        let a: Vec<f64> = (0..n).map(|i| (i % 97) as f64 * 0.5 - 7.0).collect();
        let b: Vec<f64> = (0..n).map(|i| (i % 13) as f64 + 1.0).collect();
        let layout = Layout::contiguous(&[n]);
        let sum = binary(&a, &layout, &b, &layout, BinaryOp::Add);
        assert!(sum.iter().zip(a.iter().zip(&b)).all(|(s, (x, y))| *s == x + y));
        let neg = unary(&a, &layout, UnaryOp::Neg);
        assert!(neg.iter().zip(&a).all(|(m, x)| *m == -x));
        let mut dst = a.clone();
        assign(&mut dst, &layout, &b, &layout, Some(BinaryOp::Mul));
        assert!(dst.iter().zip(a.iter().zip(&b)).all(|(d, (x, y))| *d == x * y));
        // Integers times 0.5 sum exactly in f64 whatever the order, so the parallel sums must be exact.
        let total = sum_to(&a, &layout, &[1])[0];
        assert_eq!(total, a.iter().sum::<f64>());
        let cols = 7;
        let rows = n / cols;
        let grid = Layout::contiguous(&[rows, cols]);
        let by_col = sum_to(&a, &grid, &[1, cols]);
        let by_row = sum_to(&a, &grid, &[rows, 1]);
        for c in 0..cols {
            assert_eq!(by_col[c], (0..rows).map(|r| a[r * cols + c]).sum::<f64>());
        }
        assert!((0..rows).all(|r| by_row[r] == a[r * cols..(r + 1) * cols].iter().sum::<f64>()));
        // Strided (transposed) and broadcast operands take the row-chunked parallel path.
        let t = grid.transpose(0, 1);
        let moved = unary(&a, &t, UnaryOp::Identity);
        assert!((0..cols).all(|c| (0..rows).all(|r| moved[c * rows + r] == a[r * cols + c])));
        let row = Layout::contiguous(&[cols]).broadcast_to(&[rows, cols]);
        let plus_row = binary(&a, &grid, &b, &row, BinaryOp::Add);
        assert!((0..rows * cols).all(|i| plus_row[i] == a[i] + b[i % cols]));
    }
}
