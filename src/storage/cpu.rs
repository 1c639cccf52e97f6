//! CPU kernels over strided views of a `Vec<T>`: elementwise maps, broadcasting zips, reductions, GEMM.
//!
//! Every kernel has a fast path for contiguous operands and a general path that walks the view row by row,
//! so the inner loop is a plain strided loop the compiler can vectorise.

use super::backend::BackendStorage;
use super::pointwise::{BinaryOp, Map1, Map2, Map3, Side, UnaryOp};
use super::reduce::ReduceOp;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{Dims, Layout};
use rayon::prelude::*;
use smallvec::SmallVec;

/// Contiguous elementwise kernels and full sums over at least this many elements split the work across
/// rayon's threads; below it, the split costs more than it saves.
const PARALLEL_ABOVE: usize = 1 << 18;

/// A buffer of elements in host memory.
#[derive(Debug, Clone)]
pub(crate) struct CpuStorage<T>(pub(crate) Vec<T>);

/// Calls `f(offsets, len)` for each innermost row of `N` views of the same shape, `offsets[i]` being the
/// storage offset of the row's first element in view `i`; the rows are walked in row-major order and their
/// element strides are the views' last strides.
fn for_each_row<const N: usize>(views: [&Layout; N], mut f: impl FnMut([usize; N], usize)) {
    let shape = &views[0].shape;
    let rank = shape.len();
    let mut offsets = views.map(|l| l.offset);
    if rank == 0 {
        f(offsets, 1);
        return;
    }
    let len = shape[rank - 1];
    if len == 0 || shape.contains(&0) {
        return;
    }
    let mut index: Dims = SmallVec::from_elem(0, rank - 1);
    loop {
        f(offsets, len);
        let mut dim = rank - 1;
        loop {
            if dim == 0 {
                return;
            }
            dim -= 1;
            index[dim] += 1;
            for (o, l) in offsets.iter_mut().zip(&views) {
                *o += l.strides[dim];
            }
            if index[dim] < shape[dim] {
                break;
            }
            for (o, l) in offsets.iter_mut().zip(&views) {
                *o -= l.strides[dim] * index[dim];
            }
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

/// Fills `out`, row-major over the shape of the views, one innermost row at a time: `fill(row, offsets)`.
/// Large outputs are split into chunks of rows filled on rayon's threads.
fn fill_rows<T: Element, const N: usize>(
    out: &mut [T],
    views: [&Layout; N],
    fill: impl Fn(&mut [T], [usize; N]) + Sync,
) {
    let len = row_len(views[0]);
    if len == 0 || out.is_empty() {
        return;
    }
    if out.len() < PARALLEL_ABOVE {
        let mut rows = out.chunks_mut(len);
        for_each_row(views, |offsets, _| fill(rows.next().expect("one output row per view row"), offsets));
        return;
    }
    let rows_per_chunk = (PARALLEL_ABOVE / 4).div_ceil(len);
    out.par_chunks_mut(rows_per_chunk * len).enumerate().for_each(|(chunk, rows)| {
        for (i, row) in rows.chunks_mut(len).enumerate() {
            let r = chunk * rows_per_chunk + i;
            fill(row, views.map(|l| row_start(l, r)));
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
    fill_rows(&mut out, [layout], |row, [o]| {
        for (j, x) in row.iter_mut().enumerate() {
            *x = f(data[o + j * stride]);
        }
    });
    out
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
    fill_rows(&mut out, [la, lb], |row, [oa, ob]| {
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

/// `f(a, b, c)` over three views of one shape, contiguous.
fn zip3<T: Element>(views: [(&[T], &Layout); 3], f: impl Fn(T, T, T) -> T + Sync) -> Vec<T> {
    let [(a, la), (b, lb), (c, lc)] = views;
    let n = la.numel();
    let mut out = vec![T::zero(); n];
    let (sa, sb, sc) = (last_stride(la), last_stride(lb), last_stride(lc));
    fill_rows(&mut out, [la, lb, lc], |row, [oa, ob, oc]| {
        for (j, x) in row.iter_mut().enumerate() {
            *x = f(a[oa + j * sa], b[ob + j * sb], c[oc + j * sc]);
        }
    });
    out
}

/// The CPU kernels as [`Map1`]/[`Map2`]/[`Map3`] visitors: each op's closure is its own type, so every op
/// gets its own loop with the function inlined.
struct MapView<'a, T>(&'a [T], &'a Layout);

impl<T: Element> Map1<T> for MapView<'_, T> {
    type Output = Vec<T>;
    fn run<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        map(self.0, self.1, f)
    }
}

struct ZipViews<'a, T>([(&'a [T], &'a Layout); 2]);

impl<T: Element> Map2<T> for ZipViews<'_, T> {
    type Output = Vec<T>;
    fn run<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        let [(a, la), (b, lb)] = self.0;
        zip(a, la, b, lb, f)
    }
}

struct Zip3Views<'a, T>([(&'a [T], &'a Layout); 3]);

impl<T: Element> Map3<T> for Zip3Views<'_, T> {
    type Output = Vec<T>;
    fn run<F: Fn(T, T, T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        zip3(self.0, f)
    }
}

/// `dst = f(dst, src)` over a destination view.
struct AssignViews<'a, T> {
    dst: &'a mut [T],
    ld: &'a Layout,
    src: &'a [T],
    ls: &'a Layout,
}

impl<T: Element> Map2<T> for AssignViews<'_, T> {
    type Output = ();
    fn run<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) {
        assign_with(self.dst, self.ld, self.src, self.ls, f)
    }
}

/// `x = f(x)` over a view, in place.
struct MapInPlace<'a, T>(&'a mut [T], &'a Layout);

impl<T: Element> Map1<T> for MapInPlace<'_, T> {
    type Output = ();
    fn run<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) {
        let (dst, ld) = (self.0, self.1);
        if ld.is_contiguous() {
            dst[ld.offset..ld.offset + ld.numel()].iter_mut().for_each(|x| *x = f(*x));
            return;
        }
        let stride = last_stride(ld);
        for_each_row([ld], |[o], len| (0..len).for_each(|j| dst[o + j * stride] = f(dst[o + j * stride])));
    }
}

/// A reduction of a view (see [`reduce_to`]) with the combine `f` and its identity.
struct ReduceView<'a, T> {
    data: &'a [T],
    layout: &'a Layout,
    out_shape: &'a [usize],
    identity: T,
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
fn reduce_slice<T: Element>(xs: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    const LANES: usize = 32;
    let mut acc = [identity; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = f(*a, x);
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = f(acc[i], acc[i + width]);
        }
    }
    tail.iter().fold(acc[0], |s, &x| f(s, x))
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
            let partial: Vec<T> = xs.par_chunks(PARALLEL_ABOVE / 4).map(|c| reduce_slice(c, identity, f)).collect();
            return vec![reduce_slice(&partial, identity, f)];
        }
        return vec![reduce_slice(xs, identity, f)];
    }
    // The output seen with the input's shape: reduced dims get stride 0, so each input element lands on
    // the output element it reduces into.
    let target = Layout::contiguous(out_shape).broadcast_to(&layout.shape);
    let (si, so) = (last_stride(layout), last_stride(&target));
    let len = row_len(layout);
    let add_row = |out: &mut [T], oi: usize, oo: usize| {
        if so == 0 {
            let row: T = (0..len).fold(identity, |s, j| f(s, data[oi + j * si]));
            out[oo] = f(out[oo], row);
        } else {
            for j in 0..len {
                out[oo + j * so] = f(out[oo + j * so], data[oi + j * si]);
            }
        }
    };
    let n = layout.numel();
    let rows = n.checked_div(len).unwrap_or(0);
    let rows_per_chunk = (PARALLEL_ABOVE / 4).div_ceil(len.max(1));
    let chunks = rows.div_ceil(rows_per_chunk);
    // Large inputs reduced to a small output (a bias gradient, say): each chunk of rows reduces into its own
    // partial output on some thread, and the partials are combined in chunk order.
    if n >= PARALLEL_ABOVE && chunks > 1 && out_numel * chunks <= n {
        let partials: Vec<Vec<T>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut part = vec![identity; out_numel];
                for r in c * rows_per_chunk..((c + 1) * rows_per_chunk).min(rows) {
                    add_row(&mut part, row_start(layout, r), row_start(&target, r));
                }
                part
            })
            .collect();
        let mut out = vec![identity; out_numel];
        for part in partials {
            out.iter_mut().zip(part).for_each(|(o, p)| *o = f(*o, p));
        }
        return out;
    }
    let mut out = vec![identity; out_numel];
    for_each_row([layout, &target], |[oi, oo], _| add_row(&mut out, oi, oo));
    out
}

/// Products with at most this many multiply-adds skip the GEMM (`m * k * n`).
const SMALL_GEMM: usize = 4096;

fn matmul<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Result<Vec<T>> {
    let (m, n) = (la.shape[0], lb.shape[1]);
    let size = m.checked_mul(n).ok_or_else(|| Error::shape("matmul", format!("a [{m}, {n}] result is too large")))?;
    let mut out = Vec::with_capacity(size);
    // SAFETY: `out` is a fresh buffer with room for the m x n product, overlapping neither input; without
    // `accumulate`, `gemm_into` writes all `size` elements before any is read, so they are set by `set_len`.
    unsafe {
        gemm_into(a, la, b, lb, out.as_mut_ptr(), false)?;
        out.set_len(size);
    }
    Ok(out)
}

/// `a b + c` for 2-D views `[m, k]`, `[k, n]` and a view `c` of shape `[m, n]` (a bias broadcast over the
/// rows, say): the output starts as a copy of `c` and the GEMM adds the product to it (`beta = 1`), as
/// torch's addmm does, instead of a separate pass for the sum.
fn addmm<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, c: &[T], lc: &Layout) -> Result<Vec<T>> {
    let mut out = map(c, lc, |x| x);
    // SAFETY: `out` is a fresh, initialised m x n buffer (the shape of `lc`), overlapping neither input.
    unsafe { gemm_into(a, la, b, lb, out.as_mut_ptr(), true)? };
    Ok(out)
}

/// `out = a b`, or `out += a b` when `accumulate`, for strided 2-D views `[m, k]` and `[k, n]`, `out` the
/// contiguous m x n buffer at `c`.
///
/// # Safety
/// `c` must be valid for writes of m·n elements, and they must be initialised when `accumulate`; it must not
/// overlap `a` or `b`. Without `accumulate` every element is written, and none is read before it is.
unsafe fn gemm_into<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, c: *mut T, accumulate: bool) -> Result<()> {
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (a_rows, a_cols, b_rows, b_cols) = (la.strides[0], la.strides[1], lb.strides[0], lb.strides[1]);
    if k == 0 || m.saturating_mul(k).saturating_mul(n) <= SMALL_GEMM {
        // Below this size the GEMM's packing and dispatch cost more than the arithmetic.
        for i in 0..m {
            for j in 0..n {
                let (a0, b0) = (la.offset + i * a_rows, lb.offset + j * b_cols);
                let dot = (0..k).fold(T::zero(), |acc, p| acc + a[a0 + p * a_cols] * b[b0 + p * b_rows]);
                // SAFETY: i·n + j < m·n, inside the buffer of the contract, initialised when accumulating.
                unsafe {
                    let out = c.add(i * n + j);
                    out.write(if accumulate { dot + out.read() } else { dot });
                }
            }
        }
        return Ok(());
    }
    // Check that both views lie inside their buffers before handing raw pointers to the GEMM.
    let last = |l: &Layout| l.offset + (l.shape[0] - 1) * l.strides[0] + (l.shape[1] - 1) * l.strides[1];
    if last(la) >= a.len() || last(lb) >= b.len() {
        return Err(Error::shape("matmul", "an operand's view exceeds its storage"));
    }
    let stride = |s: usize| s as isize;
    let beta = if accumulate { T::one() } else { T::zero() };
    // SAFETY: the check above keeps every strided read of A and B inside `a` and `b`; C is the contiguous
    // m x n buffer of this function's contract, which overlaps neither input and, with beta = 0, is only
    // written (matrixmultiply does not read C then).
    unsafe {
        T::gemm(
            m,
            k,
            n,
            a.as_ptr().add(la.offset),
            stride(a_rows),
            stride(a_cols),
            b.as_ptr().add(lb.offset),
            stride(b_rows),
            stride(b_cols),
            beta,
            c,
            n as isize,
            1,
        );
    }
    Ok(())
}

/// `a - b` for two contiguous slices into `out`, and the sum of the squared differences, accumulated in the
/// lanes and order of [`reduce_slice`], so it equals `sum((a - b)²)` computed in three passes.
fn sub_square_sum_slice<T: Element>(a: &[T], b: &[T], out: &mut [T]) -> T {
    const LANES: usize = 32;
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
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
    }
    let mut total = acc[0];
    for ((o, &x), &y) in tail.iter_mut().zip(&a[full..]).zip(&b[full..]) {
        let d = x - y;
        *o = d;
        total = total + d * d;
    }
    total
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
    for_each_row([ld, ls], |[od, os], len| {
        for j in 0..len {
            let x = &mut dst[od + j * sd];
            *x = f(*x, src[os + j * ss]);
        }
    });
}

impl<T: Element> BackendStorage<T> for CpuStorage<T> {
    fn device(&self) -> Device {
        Device::Cpu
    }

    fn to_vec(&self, layout: &Layout) -> Result<Vec<T>> {
        if layout.is_contiguous() {
            return Ok(self.0[layout.offset..layout.offset + layout.numel()].to_vec());
        }
        Ok(map(&self.0, layout, |x| x))
    }

    fn unary(&self, layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        if op == UnaryOp::Fill {
            return Ok(CpuStorage(vec![c; layout.numel()]));
        }
        Ok(CpuStorage(op.forward(c, MapView(&self.0, layout))))
    }

    fn unary_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        Ok(CpuStorage(op.gradient(c, ZipViews([(&self.0, layout), (&grad.0, grad_layout)]))))
    }

    fn binary(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, op: BinaryOp) -> Result<Self> {
        Ok(CpuStorage(op.forward(ZipViews([(&self.0, lhs), (&rhs.0, rhs_layout)]))))
    }

    fn binary_grad(
        &self,
        lhs: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        grad: &Self,
        grad_layout: &Layout,
        op: BinaryOp,
        side: Side,
    ) -> Result<Self> {
        let views = [(self.0.as_slice(), lhs), (rhs.0.as_slice(), rhs_layout), (grad.0.as_slice(), grad_layout)];
        Ok(CpuStorage(op.gradient(side, Zip3Views(views))))
    }

    fn where_cond(&self, cond: &Layout, a: &Self, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        let views = [(self.0.as_slice(), cond), (a.0.as_slice(), la), (b.0.as_slice(), lb)];
        Ok(CpuStorage(zip3(views, |c, x, y| if c != T::zero() { x } else { y })))
    }

    fn reduce_to(&self, layout: &Layout, out_shape: &[usize], op: ReduceOp) -> Result<Self> {
        let kernel = ReduceView { data: &self.0, layout, out_shape, identity: op.identity() };
        Ok(CpuStorage(op.combine(kernel)))
    }

    fn matmul(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<Self> {
        matmul(&self.0, lhs, &rhs.0, rhs_layout).map(CpuStorage)
    }

    fn addmm(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, c: &Self, c_layout: &Layout) -> Result<Self> {
        addmm(&self.0, lhs, &rhs.0, rhs_layout, &c.0, c_layout).map(CpuStorage)
    }

    fn add_scaled(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, alpha: T) -> Result<()> {
        assign_with(&mut self.0, dst, &src.0, src_layout, |x, y| x + y * alpha);
        Ok(())
    }

    fn sub_square_sum(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<(Self, Self)> {
        if !lhs.is_contiguous() || !rhs_layout.is_contiguous() {
            return super::backend::sub_square_sum_in_passes(self, lhs, rhs, rhs_layout);
        }
        let n = lhs.numel();
        let (a, b) = (&self.0[lhs.offset..lhs.offset + n], &rhs.0[rhs_layout.offset..rhs_layout.offset + n]);
        let mut diff = vec![T::zero(); n];
        let total = if n >= PARALLEL_ABOVE {
            // The chunks of `reduce_to`'s parallel sum, so the total is the same on any thread count.
            let chunk = PARALLEL_ABOVE / 4;
            let partial: Vec<T> = diff
                .par_chunks_mut(chunk)
                .zip(a.par_chunks(chunk).zip(b.par_chunks(chunk)))
                .map(|(out, (a, b))| sub_square_sum_slice(a, b, out))
                .collect();
            reduce_slice(&partial, T::zero(), |x, y| x + y)
        } else {
            sub_square_sum_slice(a, b, &mut diff)
        };
        Ok((CpuStorage(diff), CpuStorage(vec![total])))
    }

    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        let row_len = crate::shape::numel(&layout.shape[1..]);
        let mut out = Vec::with_capacity(indices.len() * row_len);
        for &i in indices {
            let row = layout.narrow(0, i, 1);
            if row.is_contiguous() {
                out.extend_from_slice(&self.0[row.offset..row.offset + row_len]);
            } else {
                out.extend(map(&self.0, &row, |x| x));
            }
        }
        Ok(CpuStorage(out))
    }

    fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()> {
        let src = map(&src.0, src_layout, |x| x);
        for (row, &i) in src.chunks_exact(row_len.max(1)).zip(indices) {
            for (d, &s) in self.0[i * row_len..(i + 1) * row_len].iter_mut().zip(row) {
                *d = *d + s;
            }
        }
        Ok(())
    }

    fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()> {
        let views = AssignViews { dst: &mut self.0, ld: dst, src: &src.0, ls: src_layout };
        match op {
            None => assign_with(views.dst, dst, views.src, src_layout, |_, y| y),
            Some(op) => op.forward(views),
        }
        Ok(())
    }

    fn map_inplace(&mut self, dst: &Layout, op: UnaryOp, c: T) -> Result<()> {
        op.forward(c, MapInPlace(&mut self.0, dst));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_kernels_match_plain_loops() -> Result<()> {
        let n = PARALLEL_ABOVE * 2 + 3;
        let a = CpuStorage((0..n).map(|i| (i % 97) as f64 * 0.5 - 7.0).collect::<Vec<_>>());
        let b = CpuStorage((0..n).map(|i| (i % 13) as f64 + 1.0).collect::<Vec<_>>());
        let layout = Layout::contiguous(&[n]);
        let sum = a.binary(&layout, &b, &layout, BinaryOp::Add)?.0;
        assert!(sum.iter().zip(a.0.iter().zip(&b.0)).all(|(s, (x, y))| *s == x + y));
        let neg = a.unary(&layout, UnaryOp::Neg, 0.0)?.0;
        assert!(neg.iter().zip(&a.0).all(|(m, x)| *m == -x));
        let mut dst = a.clone();
        dst.assign(&layout, &b, &layout, Some(BinaryOp::Mul))?;
        assert!(dst.0.iter().zip(a.0.iter().zip(&b.0)).all(|(d, (x, y))| *d == x * y));
        // Integers times 0.5 sum exactly in f64 whatever the order, so the parallel sums must be exact.
        let total = a.reduce_to(&layout, &[1], ReduceOp::Sum)?.0[0];
        assert_eq!(total, a.0.iter().sum::<f64>());
        let max = a.reduce_to(&layout, &[1], ReduceOp::Max)?.0[0];
        assert_eq!(max, a.0.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let cols = 7;
        let rows = n / cols;
        let grid = Layout::contiguous(&[rows, cols]);
        let by_col = a.reduce_to(&grid, &[1, cols], ReduceOp::Sum)?.0;
        let by_row = a.reduce_to(&grid, &[rows, 1], ReduceOp::Sum)?.0;
        for (c, &total) in by_col.iter().enumerate() {
            assert_eq!(total, (0..rows).map(|r| a.0[r * cols + c]).sum::<f64>());
        }
        assert!((0..rows).all(|r| by_row[r] == a.0[r * cols..(r + 1) * cols].iter().sum::<f64>()));
        let min_by_col = a.reduce_to(&grid, &[1, cols], ReduceOp::Min)?.0;
        for (c, &min) in min_by_col.iter().enumerate() {
            assert_eq!(min, (0..rows).map(|r| a.0[r * cols + c]).fold(f64::INFINITY, f64::min));
        }
        // Strided (transposed) and broadcast operands take the row-chunked parallel path.
        let t = grid.transpose(0, 1);
        let moved = a.unary(&t, UnaryOp::Identity, 0.0)?.0;
        assert!((0..cols).all(|c| (0..rows).all(|r| moved[c * rows + r] == a.0[r * cols + c])));
        let row = Layout::contiguous(&[cols]).broadcast_to(&[rows, cols]);
        let plus_row = a.binary(&grid, &b, &row, BinaryOp::Add)?.0;
        assert!((0..rows * cols).all(|i| plus_row[i] == a.0[i] + b.0[i % cols]));
        // Three strided operands: the gradient of a product for its lhs is g · rhs.
        let g = CpuStorage(vec![2.0; n]);
        let grad = a.binary_grad(&grid, &b, &row, &g, &grid, BinaryOp::Mul, Side::Lhs)?.0;
        assert!((0..rows * cols).all(|i| grad[i] == 2.0 * b.0[i % cols]));
        Ok(())
    }
}
