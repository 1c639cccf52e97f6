//! CPU kernels over strided views of a `Vec<T>`: elementwise maps, broadcasting zips, reductions, GEMM.
//!
//! Every kernel has a fast path for contiguous operands and a general path that walks the view row by row,
//! so the inner loop is a plain strided loop the compiler can vectorise. Each loop runs through
//! [`vectorized`], which picks the widest instruction set the CPU has (see `simd`).

use super::backend::{AddcOp, BackendStorage};
use super::pointwise::{BinaryOp, Map1, Map2, Map3, Side, UnaryOp};
use super::reduce::ReduceOp;
use super::simd::vectorized;
use crate::device::Device;
use crate::element::Element;
use crate::error::Result;
use crate::shape::{Dims, Layout};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::mem::MaybeUninit;

mod matmul;
mod reduce;
mod update;
mod window;

use matmul::{addmm, matmul};
use reduce::{sub_square_sum_slice, sum_partials, ReduceView};

/// Contiguous elementwise kernels and full sums over at least this many elements split the work across
/// rayon's threads; below it, the split costs more than it saves.
const PARALLEL_ABOVE: usize = 1 << 18;

/// The elements in one task of a parallel kernel.
const CHUNK: usize = PARALLEL_ABOVE / 4;

/// A buffer of elements in host memory.
#[derive(Debug, Clone)]
pub(crate) struct CpuStorage<T>(pub(crate) Vec<T>);

/// Calls `f(offsets, len)` for each innermost row of `N` views of the same shape, `offsets[i]` being the
/// storage offset of the row's first element in view `i`; the rows are walked in row-major order and their
/// element strides are the views' last strides. Inlined, so that `f`'s loop is compiled for the instruction
/// set of the kernel calling it.
#[inline(always)]
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
        vectorized(|| {
            for_each_row(views, |offsets, _| fill(rows.next().expect("one output row per view row"), offsets))
        });
        return;
    }
    let rows_per_chunk = CHUNK.div_ceil(len);
    out.par_chunks_mut(rows_per_chunk * len).enumerate().for_each(|(chunk, rows)| {
        vectorized(|| {
            for (i, row) in rows.chunks_mut(len).enumerate() {
                let r = chunk * rows_per_chunk + i;
                fill(row, views.map(|l| row_start(l, r)));
            }
        })
    });
}

fn last_stride(layout: &Layout) -> usize {
    layout.strides.last().copied().unwrap_or(1)
}

/// A vector of `n` elements written chunk by chunk (on rayon's threads from [`PARALLEL_ABOVE`] elements on):
/// `fill(start, dst)` writes elements `start..start + dst.len()`. A panic in `fill` leaks the buffer instead
/// of exposing uninitialised elements.
///
/// # Safety
/// `fill` must write every element of the chunk it is given before it returns.
unsafe fn collect_chunks<T: Element>(n: usize, fill: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    let dst = &mut out.spare_capacity_mut()[..n];
    if n >= PARALLEL_ABOVE {
        dst.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| fill(i * CHUNK, chunk));
    } else {
        fill(0, dst);
    }
    // SAFETY: the chunks cover the first `n` elements of the capacity, and `fill` wrote each chunk entirely
    // (this function's contract); elements are `Copy`, so nothing needs dropping.
    unsafe { out.set_len(n) };
    out
}

/// The elements of a view mapped through `f`, contiguous.
fn map<T: Element>(data: &[T], layout: &Layout, f: impl Fn(T) -> T + Sync) -> Vec<T> {
    let n = layout.numel();
    if layout.is_contiguous() {
        let xs = &data[layout.offset..layout.offset + n];
        // SAFETY: `xs` is cut to the chunk's length (or the cut panics), so the zip writes every element.
        return unsafe {
            collect_chunks(n, |start, dst| {
                let xs = &xs[start..start + dst.len()];
                vectorized(|| {
                    for (o, &x) in dst.iter_mut().zip(xs) {
                        o.write(f(x));
                    }
                });
            })
        };
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
        // SAFETY: `a` and `b` are cut to the chunk's length (or the cut panics), so the zip writes every element.
        return unsafe {
            collect_chunks(n, |start, dst| {
                let (a, b) = (&a[start..start + dst.len()], &b[start..start + dst.len()]);
                vectorized(|| {
                    for (o, (&x, &y)) in dst.iter_mut().zip(a.iter().zip(b)) {
                        o.write(f(x, y));
                    }
                });
            })
        };
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
            let xs = &mut dst[ld.offset..ld.offset + ld.numel()];
            vectorized(|| {
                for x in xs {
                    *x = f(*x);
                }
            });
            return;
        }
        let stride = last_stride(ld);
        vectorized(|| {
            for_each_row([ld], |[o], len| (0..len).for_each(|j| dst[o + j * stride] = f(dst[o + j * stride])))
        });
    }
}

fn assign_with<T: Element>(dst: &mut [T], ld: &Layout, src: &[T], ls: &Layout, f: impl Fn(T, T) -> T + Sync) {
    let n = ld.numel();
    if ld.is_contiguous() && ls.is_contiguous() {
        let (d, src) = (&mut dst[ld.offset..ld.offset + n], &src[ls.offset..ls.offset + n]);
        let assign = |d: &mut [T], s: &[T]| {
            vectorized(|| {
                for (x, &y) in d.iter_mut().zip(s) {
                    *x = f(*x, y);
                }
            })
        };
        if n >= PARALLEL_ABOVE {
            d.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(d, s)| assign(d, s));
        } else {
            assign(d, src);
        }
        return;
    }
    let (sd, ss) = (last_stride(ld), last_stride(ls));
    vectorized(|| {
        for_each_row([ld, ls], |[od, os], len| {
            for j in 0..len {
                let x = &mut dst[od + j * sd];
                *x = f(*x, src[os + j * ss]);
            }
        })
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
            let partial: Vec<T> = diff
                .par_chunks_mut(CHUNK)
                .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                .map(|(out, (a, b))| vectorized(|| sub_square_sum_slice(a, b, out)))
                .collect();
            sum_partials(&partial)
        } else {
            vectorized(|| sub_square_sum_slice(a, b, &mut diff))
        };
        Ok((CpuStorage(diff), CpuStorage(vec![total])))
    }

    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        let row_len = crate::shape::numel(&layout.shape[1..]);
        let mut out = Vec::with_capacity(indices.len() * row_len);
        if layout.is_contiguous() {
            // Rows follow one another: row `i` starts `i · row_len` past the offset, so the gather is one
            // slice copy per index, with no per-row layout (the gathers of im2col and embeddings are
            // many short rows).
            for &i in indices {
                let start = layout.offset + i * row_len;
                out.extend_from_slice(&self.0[start..start + row_len]);
            }
            return Ok(CpuStorage(out));
        }
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

    fn im2col(&self, layout: &Layout, windows: &crate::storage::window::Windows, pad: T) -> Result<Self> {
        Ok(CpuStorage(window::im2col(&self.0, layout, windows, pad)))
    }

    fn col2im(&self, layout: &Layout, windows: &crate::storage::window::Windows) -> Result<Self> {
        if layout.is_contiguous() {
            let len = crate::shape::numel(&layout.shape);
            return Ok(CpuStorage(window::col2im(&self.0[layout.offset..layout.offset + len], windows)));
        }
        Ok(CpuStorage(window::col2im(&map(&self.0, layout, |x| x), windows)))
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

    fn addc(
        &mut self,
        dst: &Layout,
        t1: &Self,
        l1: &Layout,
        t2: &Self,
        l2: &Layout,
        op: AddcOp,
        value: T,
    ) -> Result<()> {
        update::addc(&mut self.0, dst, [(&t1.0, l1), (&t2.0, l2)], op, value);
        Ok(())
    }

    fn lerp(&mut self, dst: &Layout, end: &Self, end_layout: &Layout, weight: T) -> Result<()> {
        update::lerp(&mut self.0, dst, &end.0, end_layout, weight);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::simd::{self, Isa};
    use super::*;

    /// Every pointwise op, its gradient and every reduction, on a contiguous input long enough for the
    /// parallel path, on a short one, and on a transposed view.
    fn every_kernel<T: Element>() -> Result<Vec<Vec<T>>> {
        let n = PARALLEL_ABOVE + 37;
        let x: Vec<T> = (0..n).map(|i| T::from_f64_lossy(((i * 7919) % 4001) as f64 / 50.0 - 40.0)).collect();
        let x = CpuStorage(x);
        let y = CpuStorage(x.0.iter().rev().copied().collect::<Vec<_>>());
        let (long, short) = (Layout::contiguous(&[n]), Layout::contiguous(&[29]));
        let transposed = Layout::contiguous(&[37, 101]).transpose(0, 1);
        let mut out = Vec::new();
        for layout in [&long, &short, &transposed] {
            for &op in UnaryOp::ALL {
                let c = T::from_f64_lossy(0.5);
                out.push(x.unary(layout, op, c)?.0);
                out.push(x.unary_grad(layout, &y, layout, op, c)?.0);
            }
            for &op in BinaryOp::ALL {
                out.push(x.binary(layout, &y, layout, op)?.0);
            }
            for &op in ReduceOp::ALL {
                out.push(x.reduce_to(layout, &vec![1; layout.shape.len()], op)?.0);
            }
            // The optimizers' state updates, whose multiply-adds must not become fused ones under AVX2 + FMA.
            for op in [AddcOp::Mul, AddcOp::Div] {
                let mut dst = y.clone();
                dst.addc(layout, &x, layout, &y, layout, op, T::from_f64_lossy(0.3))?;
                out.push(dst.0);
            }
            for weight in [0.1, 0.9] {
                let mut dst = y.clone();
                dst.lerp(layout, &x, layout, T::from_f64_lossy(weight))?;
                out.push(dst.0);
            }
        }
        Ok(out)
    }

    fn same_bits_on_every_instruction_set<T: Element>() -> Result<()> {
        let chosen = simd::detected();
        let baseline = (simd::choose(Isa::Baseline), every_kernel::<T>());
        let widest = (simd::choose(Isa::Avx2), every_kernel::<T>());
        simd::choose(chosen);
        let (baseline, widest) = (baseline.1?, widest.1?);
        for (i, (a, b)) in baseline.iter().zip(&widest).enumerate() {
            let same = a.len() == b.len()
                && a.iter().zip(b).all(|(a, b)| {
                    (a == b && a.is_sign_negative() == b.is_sign_negative()) || (a.is_nan() && b.is_nan())
                });
            assert!(same, "kernel {i} differs between the baseline and AVX2 builds");
        }
        Ok(())
    }

    #[test]
    fn instruction_sets_give_the_same_bits() -> Result<()> {
        same_bits_on_every_instruction_set::<f32>()?;
        same_bits_on_every_instruction_set::<f64>()
    }

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
