//! The contract every device's storage fulfils: the handful of primitives all tensor ops are built from.
//!
//! Both [`CpuStorage`](super::cpu::CpuStorage) and [`CudaStorage`](super::cuda::CudaStorage) implement it;
//! without the `cuda` feature the CUDA side is a type with no values that still implements the trait, so a
//! change of signature fails `cargo check` in every build, not only in CUDA builds.

use super::pointwise::{BinaryOp, Side, UnaryOp};
use super::reduce::ReduceOp;
use super::window::Windows;
use crate::device::Device;
use crate::element::Element;
use crate::error::Result;
use crate::shape::Layout;

/// A buffer of elements on one device and the kernels over strided views of it. Every result is a fresh,
/// contiguous buffer on the same device. Operands of two-buffer primitives are on the same device (the
/// caller, [`Storage`](super::Storage), checks that once).
pub(crate) trait BackendStorage<T: Element>: Sized + Send + Sync + std::fmt::Debug {
    /// The device holding the buffer.
    fn device(&self) -> Device;

    /// The elements of a view, row-major, on the host.
    fn to_vec(&self, layout: &Layout) -> Result<Vec<T>>;

    /// `op(x, c)` of every element of a view.
    fn unary(&self, layout: &Layout, op: UnaryOp, c: T) -> Result<Self>;

    /// `g · op'(s)` elementwise: the gradient of a unary op from the saved view `self` (its input or its
    /// output, as the op declares) and the incoming gradient `grad`, both of one shape.
    fn unary_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, op: UnaryOp, c: T) -> Result<Self>;

    /// `lhs op rhs` for two views already broadcast to one shape.
    fn binary(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, op: BinaryOp) -> Result<Self>;

    /// The gradient of `lhs op rhs` for operand `side`, from both operands and the incoming gradient, all
    /// three views of one (broadcast) shape.
    #[allow(clippy::too_many_arguments)]
    fn binary_grad(
        &self,
        lhs: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        grad: &Self,
        grad_layout: &Layout,
        op: BinaryOp,
        side: Side,
    ) -> Result<Self>;

    /// `a` where `cond` (this view) is non-zero, else `b`, elementwise; the three views share one shape.
    fn where_cond(&self, cond: &Layout, a: &Self, la: &Layout, b: &Self, lb: &Layout) -> Result<Self>;

    /// Reduces a view with `op` over the dims where `out_shape` (same rank) has size 1.
    fn reduce_to(&self, layout: &Layout, out_shape: &[usize], op: ReduceOp) -> Result<Self>;

    /// The `[m, n]` product of two strided 2-D views `[m, k]` and `[k, n]`.
    fn matmul(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<Self>;

    /// `lhs rhs + c` (torch's addmm), `c` a view of the product's shape `[m, n]` (a bias broadcast over the
    /// rows). The default adds in a second pass; a backend may start from `c` and accumulate the product.
    fn addmm(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, c: &Self, c_layout: &Layout) -> Result<Self> {
        let product = self.matmul(lhs, rhs, rhs_layout)?;
        product.binary(&Layout::contiguous(&c_layout.shape), c, c_layout, BinaryOp::Add)
    }

    /// `lhs - rhs` for two views of one shape, and the sum of its squares as a one-element buffer: the
    /// forward of a summed squared error. The default takes three passes; a backend may fuse them.
    fn sub_square_sum(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<(Self, Self)> {
        sub_square_sum_in_passes(self, lhs, rhs, rhs_layout)
    }

    /// Rows `indices` of dim 0 of a view.
    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self>;

    /// Adds row `i` of the view `src_layout` of `src` into row `indices[i]` of this contiguous buffer.
    fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()>;

    /// im2col: the contiguous column matrix `[N·OH·OW, kh·kw·C]` of a view `[N, C, H, W]` (laid out as
    /// [`super::window`] describes), `pad` where a tap falls in the padding.
    fn im2col(&self, layout: &Layout, windows: &Windows, pad: T) -> Result<Self>;

    /// col2im: the contiguous `[N, C, H, W]` sum of a view of the column matrix `[N·OH·OW, kh·kw·C]`, each
    /// entry added into the input entry its tap read (taps in the padding dropped), in one fixed order.
    fn col2im(&self, layout: &Layout, windows: &Windows) -> Result<Self>;

    /// `dst op= src` elementwise over the view `dst` (`None`: copy), `src` already broadcast to its shape.
    /// `src` is another buffer; the view `dst` has no two elements at one address.
    fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()>;

    /// `x = op(x, c)` over the view `dst`, in place; the view has no two elements at one address.
    fn map_inplace(&mut self, dst: &Layout, op: UnaryOp, c: T) -> Result<()>;

    /// `dst += alpha · src` over the view `dst` (an optimizer's update), `src` another buffer already
    /// broadcast to its shape, each element rounded as `alpha · src` and then the sum. The default scales
    /// `src` into a new buffer first; a backend may do both in one pass.
    fn add_scaled(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, alpha: T) -> Result<()> {
        let scaled = src.unary(src_layout, UnaryOp::Mul, alpha)?;
        self.assign(dst, &scaled, &Layout::contiguous(&src_layout.shape), Some(BinaryOp::Add))
    }

    /// `dst += (value · t1) op t2` over the view `dst` (torch's `addcmul_` and `addcdiv_`), `t1` and `t2`
    /// other buffers already broadcast to its shape; each element is rounded as `value · t1`, then the
    /// product or quotient, then the sum. The default makes the two intermediates
    /// buffers; a backend may do it all in one pass.
    #[allow(clippy::too_many_arguments)]
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
        addc_in_passes(self, dst, t1, l1, t2, l2, op, value)
    }

    /// `dst = lerp(dst, end, weight)` over the view `dst` (torch's `lerp_` with a scalar weight), `end`
    /// another buffer already broadcast to its shape, in the form torch's kernel picks for the weight (see
    /// [`lerp_is_small`]), each operation rounded on its own. The default takes several passes; a backend
    /// may take one.
    fn lerp(&mut self, dst: &Layout, end: &Self, end_layout: &Layout, weight: T) -> Result<()> {
        lerp_in_passes(self, dst, end, end_layout, weight)
    }

    /// Softmax (`log`: log-softmax) along `dim` of a view of rank ≥ 1, stable: each slice's maximum is
    /// subtracted first. The default takes the passes of the tensor ops; a backend may take fewer.
    fn softmax(&self, layout: &Layout, dim: usize, log: bool) -> Result<Self> {
        softmax_in_passes(self, layout, dim, log)
    }

    /// The gradient of [`BackendStorage::softmax`] from its output `y` (this view) and the incoming
    /// gradient, both of one shape: `g − exp(y) Σg` for log-softmax, `y (g − Σ g·y)` for softmax, the sums
    /// along `dim` (torch's `_log_softmax_backward_data` and `_softmax_backward_data`).
    fn softmax_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, dim: usize, log: bool) -> Result<Self> {
        softmax_grad_in_passes(self, layout, grad, grad_layout, dim, log)
    }
}

/// The shape of a view with `dim` reduced to 1, and the contiguous layout of that broadcast back.
fn kept_along(layout: &Layout, dim: usize) -> (crate::shape::Dims, Layout) {
    let mut kept: crate::shape::Dims = layout.shape.iter().copied().collect();
    kept[dim] = 1;
    let spread = Layout::contiguous(&kept).broadcast_to(&layout.shape);
    (kept, spread)
}

/// [`BackendStorage::softmax`] from the primitives, in the order of the tensor ops: `z = x − max`, then
/// `exp(z) / Σ exp(z)`, or `z − log Σ exp(z)`.
pub(crate) fn softmax_in_passes<T: Element, S: BackendStorage<T>>(
    x: &S,
    layout: &Layout,
    dim: usize,
    log: bool,
) -> Result<S> {
    let (kept, spread) = kept_along(layout, dim);
    let full = Layout::contiguous(&layout.shape);
    let max = x.reduce_to(layout, &kept, ReduceOp::Max)?;
    let z = x.binary(layout, &max, &spread, BinaryOp::Sub)?;
    let e = z.unary(&full, UnaryOp::Exp, T::zero())?;
    let total = e.reduce_to(&full, &kept, ReduceOp::Sum)?;
    if log {
        let log_total = total.unary(&Layout::contiguous(&kept), UnaryOp::Log, T::zero())?;
        z.binary(&full, &log_total, &spread, BinaryOp::Sub)
    } else {
        e.binary(&full, &total, &spread, BinaryOp::Div)
    }
}

/// [`BackendStorage::softmax_grad`] from the primitives.
pub(crate) fn softmax_grad_in_passes<T: Element, S: BackendStorage<T>>(
    y: &S,
    layout: &Layout,
    grad: &S,
    grad_layout: &Layout,
    dim: usize,
    log: bool,
) -> Result<S> {
    let (kept, spread) = kept_along(layout, dim);
    let full = Layout::contiguous(&layout.shape);
    if log {
        let total = grad.reduce_to(grad_layout, &kept, ReduceOp::Sum)?;
        let scaled = y.unary(layout, UnaryOp::Exp, T::zero())?.binary(&full, &total, &spread, BinaryOp::Mul)?;
        grad.binary(grad_layout, &scaled, &full, BinaryOp::Sub)
    } else {
        let products = grad.binary(grad_layout, y, layout, BinaryOp::Mul)?;
        let total = products.reduce_to(&full, &kept, ReduceOp::Sum)?;
        let centred = grad.binary(grad_layout, &total, &spread, BinaryOp::Sub)?;
        y.binary(layout, &centred, &full, BinaryOp::Mul)
    }
}

/// The operation between the two tensors of [`BackendStorage::addc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddcOp {
    /// `addcmul_`: `dst += value · t1 · t2`.
    Mul,
    /// `addcdiv_`: `dst += value · t1 / t2`.
    Div,
}

/// Which of torch's two forms `lerp` takes for `weight`: `x + w·(e − x)` when |w| < 0.5, else
/// `e − (e − x)·(1 − w)`, the one that loses less precision at that end.
pub(crate) fn lerp_is_small<T: Element>(weight: T) -> bool {
    weight.abs() < T::from_f64_lossy(0.5)
}

/// [`BackendStorage::addc`] from the primitives: `value · t1`, then `op t2`, then added.
#[allow(clippy::too_many_arguments)]
pub(crate) fn addc_in_passes<T: Element, S: BackendStorage<T>>(
    dst_storage: &mut S,
    dst: &Layout,
    t1: &S,
    l1: &Layout,
    t2: &S,
    l2: &Layout,
    op: AddcOp,
    value: T,
) -> Result<()> {
    let contiguous = Layout::contiguous(&dst.shape);
    let scaled = t1.unary(l1, UnaryOp::Mul, value)?;
    let op = match op {
        AddcOp::Mul => BinaryOp::Mul,
        AddcOp::Div => BinaryOp::Div,
    };
    let combined = scaled.binary(&contiguous, t2, l2, op)?;
    dst_storage.assign(dst, &combined, &contiguous, Some(BinaryOp::Add))
}

/// [`BackendStorage::lerp`] from the primitives: the difference `end − dst`, scaled, then added to `dst`
/// or subtracted from `end`.
pub(crate) fn lerp_in_passes<T: Element, S: BackendStorage<T>>(
    dst_storage: &mut S,
    dst: &Layout,
    end: &S,
    end_layout: &Layout,
    weight: T,
) -> Result<()> {
    let contiguous = Layout::contiguous(&dst.shape);
    let diff = end.binary(end_layout, dst_storage, dst, BinaryOp::Sub)?;
    if lerp_is_small(weight) {
        let scaled = diff.unary(&contiguous, UnaryOp::Mul, weight)?;
        dst_storage.assign(dst, &scaled, &contiguous, Some(BinaryOp::Add))
    } else {
        let scaled = diff.unary(&contiguous, UnaryOp::Mul, T::one() - weight)?;
        dst_storage.assign(dst, end, end_layout, None)?;
        dst_storage.assign(dst, &scaled, &contiguous, Some(BinaryOp::Sub))
    }
}

/// [`BackendStorage::sub_square_sum`] from the primitives: the difference, its squares, their sum.
pub(crate) fn sub_square_sum_in_passes<T: Element, S: BackendStorage<T>>(
    lhs_storage: &S,
    lhs: &Layout,
    rhs: &S,
    rhs_layout: &Layout,
) -> Result<(S, S)> {
    let diff = lhs_storage.binary(lhs, rhs, rhs_layout, BinaryOp::Sub)?;
    let layout = Layout::contiguous(&lhs.shape);
    let squares = diff.unary(&layout, UnaryOp::Square, T::zero())?;
    let ones: crate::shape::Dims = smallvec::smallvec![1; lhs.shape.len()];
    let total = squares.reduce_to(&layout, &ones, ReduceOp::Sum)?;
    Ok((diff, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::cpu::CpuStorage;

    /// The CPU's one-pass versions of the fused primitives against the defaults made of the others. The
    /// values are small integers, so every sum is exact in any order and the results must be equal.
    #[test]
    fn fused_cpu_primitives_match_their_defaults() -> Result<()> {
        let ints = |n: usize, m: usize, shift: i64| -> CpuStorage<f64> {
            CpuStorage((0..n).map(|i| ((i % m) as i64 - shift) as f64).collect())
        };
        // A large difference takes the parallel path, a small one the plain loop, a transposed one the passes.
        for (n, shape) in [(5, vec![5]), (1 << 19, vec![1 << 19]), (12, vec![3, 4])] {
            let (a, b) = (ints(n, 7, 3), ints(n, 5, 1));
            let layout = Layout::contiguous(&shape);
            let rhs = match shape[..] {
                [rows, cols] => Layout::contiguous(&[cols, rows]).transpose(0, 1),
                _ => layout.clone(),
            };
            let (diff, total) = a.sub_square_sum(&layout, &b, &rhs)?;
            let (want_diff, want_total) = sub_square_sum_in_passes(&a, &layout, &b, &rhs)?;
            assert_eq!((&diff.0, &total.0), (&want_diff.0, &want_total.0), "n = {n}");
        }
        // addmm: a GEMM-sized product (past the plain loop) and a small one, onto a broadcast bias row.
        for (m, k, n) in [(64, 300, 48), (3, 2, 1)] {
            let (a, b, bias) = (ints(m * k, 5, 2), ints(k * n, 3, 1), ints(n, 4, 2));
            let (la, lb) = (Layout::contiguous(&[m, k]), Layout::contiguous(&[n, k]).transpose(0, 1));
            let lc = Layout::contiguous(&[n]).broadcast_to(&[m, n]);
            let product = a.matmul(&la, &b, &lb)?;
            let want = product.binary(&Layout::contiguous(&[m, n]), &bias, &lc, BinaryOp::Add)?;
            assert_eq!(a.addmm(&la, &b, &lb, &bias, &lc)?.0, want.0, "[{m}, {k}] x [{k}, {n}]");
        }
        // add_scaled: rounded as `alpha · src`, then the sum.
        let (p, g) = (CpuStorage(vec![0.1, -2.5, 3.25]), CpuStorage(vec![0.3, 0.7, -1.1]));
        let layout = Layout::contiguous(&[3]);
        let mut fused = p.clone();
        fused.add_scaled(&layout, &g, &layout, -0.01)?;
        let scaled = g.unary(&layout, UnaryOp::Mul, -0.01)?;
        let mut want = p.clone();
        want.assign(&layout, &scaled, &layout, Some(BinaryOp::Add))?;
        assert_eq!(fused.0, want.0);
        Ok(())
    }

    /// The CPU's one-pass `addc` and `lerp` against the passes of the defaults, bit for bit, on values whose
    /// products and quotients round: contiguous (long enough for the parallel path, and short), and a
    /// transposed destination with a broadcast source.
    #[test]
    fn fused_state_updates_match_their_passes() -> Result<()> {
        let values = |n: usize, seed: usize| -> CpuStorage<f32> {
            CpuStorage((0..n).map(|i| (((i * 7919 + seed) % 1009) as f32 - 500.0) / 97.0 + 0.013).collect())
        };
        let n = 1 << 19;
        let cases = [
            (Layout::contiguous(&[n]), Layout::contiguous(&[n]), n),
            (Layout::contiguous(&[37]), Layout::contiguous(&[37]), 37),
            (Layout::contiguous(&[5, 7]).transpose(0, 1), Layout::contiguous(&[5]).broadcast_to(&[7, 5]), 35),
        ];
        for (dst, src, len) in cases {
            let (x, a, b) = (values(len, 1), values(len, 2), values(len, 3));
            for op in [AddcOp::Mul, AddcOp::Div] {
                let (mut fused, mut passes) = (x.clone(), x.clone());
                fused.addc(&dst, &a, &src, &b, &dst, op, -0.37)?;
                addc_in_passes(&mut passes, &dst, &a, &src, &b, &dst, op, -0.37)?;
                assert_eq!(fused.0, passes.0, "{op:?} into {dst:?}");
            }
            for weight in [0.1, -0.3, 0.5, 0.999] {
                let (mut fused, mut passes) = (x.clone(), x.clone());
                fused.lerp(&dst, &a, &src, weight)?;
                lerp_in_passes(&mut passes, &dst, &a, &src, weight)?;
                assert_eq!(fused.0, passes.0, "lerp with weight {weight} into {dst:?}");
            }
        }
        Ok(())
    }
}
