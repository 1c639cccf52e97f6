//! The contract every device's storage fulfils: the handful of primitives all tensor ops are built from.
//!
//! Both [`CpuStorage`](super::cpu::CpuStorage) and [`CudaStorage`](super::cuda::CudaStorage) implement it;
//! without the `cuda` feature the CUDA side is a type with no values that still implements the trait, so a
//! change of signature fails `cargo check` in every build, not only in CUDA builds.

use super::pointwise::{BinaryOp, Side, UnaryOp};
use super::reduce::ReduceOp;
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

    /// Rows `indices` of dim 0 of a view.
    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self>;

    /// Adds row `i` of the view `src_layout` of `src` into row `indices[i]` of this contiguous buffer.
    fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()>;

    /// `dst op= src` elementwise over the view `dst` (`None`: copy), `src` already broadcast to its shape.
    /// `src` is another buffer; the view `dst` has no two elements at one address.
    fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()>;

    /// `x = op(x, c)` over the view `dst`, in place; the view has no two elements at one address.
    fn map_inplace(&mut self, dst: &Layout, op: UnaryOp, c: T) -> Result<()>;
}
