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
use crate::shape::Layout;
use rayon::prelude::*;
use std::mem::MaybeUninit;

pub(crate) mod cache;
mod matmul;
pub(crate) mod narrow;
pub(crate) mod optim;
mod reduce;
mod rows;
mod softmax;
mod update;
mod window;

use matmul::{addmm, matmul};
use reduce::{sub_square_sum_slice, sum_partials, ReduceView};
use rows::{fill_rows, for_each_row, last_stride, map_row, update_row, zip3_row, zip_row};

/// Contiguous elementwise kernels and full sums over at least this many elements split the work across
/// rayon's threads; below it, the split costs more than it saves.
const PARALLEL_ABOVE: usize = 1 << 18;

/// The elements in one task of a parallel kernel.
const CHUNK: usize = PARALLEL_ABOVE / 4;

/// A buffer of elements in host memory. Its buffer comes from, and goes back to, the buffer cache
/// ([`cache`]) of the thread that makes or drops it.
#[derive(Debug)]
pub(crate) struct CpuStorage<T: Element>(pub(crate) Vec<T>);

impl<T: Element> CpuStorage<T> {
    /// `n` copies of `value`.
    pub(crate) fn filled(n: usize, value: T) -> Self {
        CpuStorage(filled(n, value))
    }

    /// The elements, taken out of the cache's keeping.
    #[cfg(test)]
    pub(crate) fn into_vec(mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }

    /// `n` copies of `value`, or `None` when `n` elements cannot be allocated.
    pub(crate) fn try_filled(n: usize, value: T) -> Option<Self> {
        let mut data = cache::try_take(n)?;
        data.resize(n, value);
        Some(CpuStorage(data))
    }
}

impl<T: Element> Clone for CpuStorage<T> {
    fn clone(&self) -> Self {
        let mut data = cache::take(self.0.len());
        data.extend_from_slice(&self.0);
        CpuStorage(data)
    }
}

impl<T: Element> Drop for CpuStorage<T> {
    fn drop(&mut self) {
        cache::give(std::mem::take(&mut self.0));
    }
}

/// A buffer of `n` copies of `value`, from the cache.
fn filled<T: Element>(n: usize, value: T) -> Vec<T> {
    let mut data = cache::take(n);
    data.resize(n, value);
    data
}

/// A vector of `n` elements written chunk by chunk (on rayon's threads from [`PARALLEL_ABOVE`] elements on):
/// `fill(start, dst)` writes elements `start..start + dst.len()`. A panic in `fill` leaks the buffer instead
/// of exposing uninitialised elements.
///
/// # Safety
/// `fill` must write every element of the chunk it is given before it returns.
unsafe fn collect_chunks<T: Element>(n: usize, fill: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync) -> Vec<T> {
    let mut out = cache::take(n);
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
                vectorized(
                    #[inline(always)]
                    || {
                        for i in 0..dst.len() {
                            dst[i].write(f(xs[i]));
                        }
                    },
                );
            })
        };
    }
    let mut out = filled(n, T::zero());
    let stride = last_stride(layout);
    fill_rows(
        &mut out,
        [layout],
        #[inline(always)]
        |row, [o]| map_row(row, (data, o, stride), &f),
    );
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
                vectorized(
                    #[inline(always)]
                    || {
                        for i in 0..dst.len() {
                            dst[i].write(f(a[i], b[i]));
                        }
                    },
                );
            })
        };
    }
    let mut out = filled(n, T::zero());
    let (sa, sb) = (last_stride(la), last_stride(lb));
    fill_rows(
        &mut out,
        [la, lb],
        #[inline(always)]
        |row, [oa, ob]| zip_row(row, (a, oa, sa), (b, ob, sb), &f),
    );
    out
}

/// `f(a, b, c)` over three views of one shape, contiguous.
fn zip3<T: Element>(views: [(&[T], &Layout); 3], f: impl Fn(T, T, T) -> T + Sync) -> Vec<T> {
    let [(a, la), (b, lb), (c, lc)] = views;
    let n = la.numel();
    let mut out = filled(n, T::zero());
    let (sa, sb, sc) = (last_stride(la), last_stride(lb), last_stride(lc));
    fill_rows(
        &mut out,
        [la, lb, lc],
        #[inline(always)]
        |row, [oa, ob, oc]| zip3_row(row, (a, oa, sa), (b, ob, sb), (c, oc, sc), &f),
    );
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
            vectorized(
                #[inline(always)]
                || {
                    for x in xs {
                        *x = f(*x);
                    }
                },
            );
            return;
        }
        let stride = last_stride(ld);
        vectorized(
            #[inline(always)]
            || {
                for_each_row(
                    [ld],
                    #[inline(always)]
                    |[o], len| match stride {
                        1 => {
                            let row = &mut dst[o..o + len];
                            for x in row {
                                *x = f(*x);
                            }
                        }
                        _ => {
                            for j in 0..len {
                                dst[o + j * stride] = f(dst[o + j * stride]);
                            }
                        }
                    },
                )
            },
        );
    }
}

fn assign_with<T: Element>(dst: &mut [T], ld: &Layout, src: &[T], ls: &Layout, f: impl Fn(T, T) -> T + Sync) {
    let n = ld.numel();
    if ld.is_contiguous() && ls.is_contiguous() {
        let (d, src) = (&mut dst[ld.offset..ld.offset + n], &src[ls.offset..ls.offset + n]);
        let assign = |d: &mut [T], s: &[T]| {
            vectorized(
                #[inline(always)]
                || {
                    let s = &s[..d.len()];
                    for i in 0..d.len() {
                        d[i] = f(d[i], s[i]);
                    }
                },
            )
        };
        if n >= PARALLEL_ABOVE {
            d.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(d, s)| assign(d, s));
        } else {
            assign(d, src);
        }
        return;
    }
    let (sd, ss) = (last_stride(ld), last_stride(ls));
    vectorized(
        #[inline(always)]
        || {
            for_each_row(
                [ld, ls],
                #[inline(always)]
                |[od, os], len| update_row(dst, od, sd, len, (src, os, ss), &f),
            )
        },
    );
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
            return Ok(CpuStorage::filled(layout.numel(), c));
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
        let mut diff = filled(n, T::zero());
        let total = if n >= PARALLEL_ABOVE {
            // The chunks of `reduce_to`'s parallel sum, so the total is the same on any thread count.
            let partial: Vec<T> = diff
                .par_chunks_mut(CHUNK)
                .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                .map(|(out, (a, b))| {
                    vectorized(
                        #[inline(always)]
                        || sub_square_sum_slice(a, b, out),
                    )
                })
                .collect();
            sum_partials(&partial)
        } else {
            vectorized(
                #[inline(always)]
                || sub_square_sum_slice(a, b, &mut diff),
            )
        };
        Ok((CpuStorage(diff), CpuStorage::filled(1, total)))
    }

    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        let row_len = crate::shape::numel(&layout.shape[1..]);
        let mut out = cache::take(indices.len() * row_len);
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
                out.extend_from_slice(&CpuStorage(map(&self.0, &row, |x| x)).0);
            }
        }
        Ok(CpuStorage(out))
    }

    fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()> {
        let src = CpuStorage(map(&src.0, src_layout, |x| x));
        for (row, &i) in src.0.chunks_exact(row_len.max(1)).zip(indices) {
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
        Ok(CpuStorage(window::col2im(&CpuStorage(map(&self.0, layout, |x| x)).0, windows)))
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

    /// The chunk kernel for contiguous views of several rows along the last dim. A single row, another dim
    /// or a strided view takes the default's passes, whose sums over one whole contiguous row run 64
    /// accumulators (`reduce_to`), not the row's plain fold: either way a view's result does not depend on
    /// which path it took.
    fn softmax(&self, layout: &Layout, dim: usize, log: bool) -> Result<Self> {
        match contiguous_rows(layout).filter(|_| dim + 1 == layout.shape.len()) {
            Some((xs, len)) => Ok(CpuStorage(softmax::softmax_rows(&self.0[xs], len, log))),
            None => super::backend::softmax_in_passes(self, layout, dim, log),
        }
    }

    fn softmax_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, dim: usize, log: bool) -> Result<Self> {
        let last = dim + 1 == layout.shape.len();
        match (contiguous_rows(layout), contiguous_rows(grad_layout)) {
            (Some((ys, len)), Some((gs, _))) if last => {
                Ok(CpuStorage(softmax::softmax_grad_rows(&self.0[ys], &grad.0[gs], len, log)))
            }
            _ => super::backend::softmax_grad_in_passes(self, layout, grad, grad_layout, dim, log),
        }
    }
}

/// The elements of a contiguous view of at least two rows, and its row length; `None` for any other view.
fn contiguous_rows(layout: &Layout) -> Option<(std::ops::Range<usize>, usize)> {
    let len = *layout.shape.last()?;
    let several = rows::rows(layout) >= 2;
    (several && layout.is_contiguous()).then(|| layout.offset..layout.offset + layout.numel()).zip(Some(len))
}

#[cfg(test)]
mod tests;
