//! Device storage: a flat buffer of elements on one device, and the primitive kernels over strided views of it.
//!
//! This is the bottom layer: it knows layouts and elements, nothing of autograd. Every tensor op is built
//! from the few primitives of [`BackendStorage`], which each device implements; [`Storage`] holds either
//! device's buffer, dispatches to it, and is the one place that checks operands share a device.
//!
//! The pointwise ops and reductions are declared once, in [`pointwise`] and [`reduce`].

mod backend;
pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
#[cfg(not(feature = "cuda"))]
#[path = "cuda_absent.rs"]
pub(crate) mod cuda;
pub(crate) mod kernel_source;
pub(crate) mod math;
pub(crate) mod pointwise;
pub(crate) mod reduce;
pub(crate) mod simd;
pub(crate) mod window;

pub(crate) use backend::{AddcOp, BackendStorage};
pub(crate) use pointwise::{BinaryOp, Recorded, Saves, Side, UnaryOp};
pub(crate) use reduce::{ReduceBackward, ReduceOp};

use self::cpu::CpuStorage;
use self::cuda::CudaStorage;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{check_no_overlap, Layout};

/// A buffer of elements on one device.
#[derive(Debug)]
pub(crate) enum Storage<T: Element> {
    Cpu(CpuStorage<T>),
    Cuda(CudaStorage<T>),
}

/// The backends of several operands, once they are known to share one device.
enum Backends<'a, T: Element, const N: usize> {
    Cpu([&'a CpuStorage<T>; N]),
    Cuda([&'a CudaStorage<T>; N]),
}

/// Applies `$f` to the backend of one storage, wrapping a backend result back into a `Storage`.
macro_rules! on_backend {
    ($storage:expr, |$b:ident| $f:expr) => {
        match $storage {
            Storage::Cpu($b) => $f.map(Storage::Cpu),
            Storage::Cuda($b) => $f.map(Storage::Cuda),
        }
    };
}

impl<T: Element> Storage<T> {
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(s) => s.device(),
            Storage::Cuda(s) => s.device(),
        }
    }

    /// The backends of two operands, or the error naming `op` and both devices: with [`Storage::triple`], the
    /// one device check of every primitive that reads several operands (those that write into one, which
    /// need it `&mut`, check in their own match).
    fn pair<'a>(op: &'static str, a: &'a Self, b: &'a Self) -> Result<Backends<'a, T, 2>> {
        match (a, b) {
            (Storage::Cpu(x), Storage::Cpu(y)) => Ok(Backends::Cpu([x, y])),
            (Storage::Cuda(x), Storage::Cuda(y)) if x.device() == y.device() => Ok(Backends::Cuda([x, y])),
            _ => Err(Error::DeviceMismatch { op, lhs: a.device(), rhs: b.device() }),
        }
    }

    /// [`Storage::pair`] for three operands.
    fn triple<'a>(op: &'static str, a: &'a Self, b: &'a Self, c: &'a Self) -> Result<Backends<'a, T, 3>> {
        match (Self::pair(op, a, b)?, Self::pair(op, a, c)?) {
            (Backends::Cpu([x, y]), Backends::Cpu([_, z])) => Ok(Backends::Cpu([x, y, z])),
            (Backends::Cuda([x, y]), Backends::Cuda([_, z])) => Ok(Backends::Cuda([x, y, z])),
            _ => Err(Error::DeviceMismatch { op, lhs: a.device(), rhs: c.device() }),
        }
    }

    /// A fresh buffer of `n` copies of `value` on `device`.
    pub fn full(n: usize, value: T, device: Device) -> Result<Self> {
        match device {
            Device::Cpu => CpuStorage::try_filled(n, value).map(Storage::Cpu).ok_or_else(|| too_large("full", n)),
            Device::Cuda(ordinal) => CudaStorage::full(n, value, ordinal).map(Storage::Cuda),
        }
    }

    /// Host data moved to `device`.
    pub fn from_vec(data: Vec<T>, device: Device) -> Result<Self> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(CpuStorage(data))),
            Device::Cuda(ordinal) => CudaStorage::from_host(&data, ordinal).map(Storage::Cuda),
        }
    }

    /// The elements of a view, in row-major order, on the host.
    pub fn to_vec(&self, layout: &Layout) -> Result<Vec<T>> {
        match self {
            Storage::Cpu(s) => s.to_vec(layout),
            Storage::Cuda(s) => s.to_vec(layout),
        }
    }

    /// `op(x, c)` applied to every element of a view; the result is contiguous.
    pub fn unary(&self, layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        on_backend!(self, |s| s.unary(layout, op, c))
    }

    /// A contiguous copy of a view.
    pub fn copy(&self, layout: &Layout) -> Result<Self> {
        self.unary(layout, UnaryOp::Identity, T::zero())
    }

    /// `g · op'(s)`: a unary op's gradient from its saved view (this storage) and the incoming gradient.
    pub fn unary_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        match Self::pair("backward", self, grad)? {
            Backends::Cpu([s, g]) => s.unary_grad(layout, g, grad_layout, op, c).map(Storage::Cpu),
            Backends::Cuda([s, g]) => s.unary_grad(layout, g, grad_layout, op, c).map(Storage::Cuda),
        }
    }

    /// `lhs op rhs` for two views already broadcast to the same shape; the result is contiguous.
    pub fn binary(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, op: BinaryOp) -> Result<Self> {
        match Self::pair(op.name(), self, rhs)? {
            Backends::Cpu([a, b]) => a.binary(lhs, b, rhs_layout, op).map(Storage::Cpu),
            Backends::Cuda([a, b]) => a.binary(lhs, b, rhs_layout, op).map(Storage::Cuda),
        }
    }

    /// The gradient of `lhs op rhs` for operand `side`, all three views of the broadcast shape.
    #[allow(clippy::too_many_arguments)]
    pub fn binary_grad(
        &self,
        lhs: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        grad: &Self,
        grad_layout: &Layout,
        op: BinaryOp,
        side: Side,
    ) -> Result<Self> {
        match Self::triple("backward", self, rhs, grad)? {
            Backends::Cpu([a, b, g]) => a.binary_grad(lhs, b, rhs_layout, g, grad_layout, op, side).map(Storage::Cpu),
            Backends::Cuda([a, b, g]) => a.binary_grad(lhs, b, rhs_layout, g, grad_layout, op, side).map(Storage::Cuda),
        }
    }

    /// `a` where `self` (the condition) is non-zero, else `b`; the three views share one shape.
    pub fn where_cond(&self, cond: &Layout, a: &Self, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        match Self::triple("where", self, a, b)? {
            Backends::Cpu([c, x, y]) => c.where_cond(cond, x, la, y, lb).map(Storage::Cpu),
            Backends::Cuda([c, x, y]) => c.where_cond(cond, x, la, y, lb).map(Storage::Cuda),
        }
    }

    /// Reduces a view with `op` over the dims where `out_shape` (same rank) has size 1; contiguous.
    pub fn reduce_to(&self, layout: &Layout, out_shape: &[usize], op: ReduceOp) -> Result<Self> {
        // An empty input may have dims whose product overflows; reducing its empty dim away would keep them.
        crate::shape::checked_numel(op.name(), out_shape)?;
        on_backend!(self, |s| s.reduce_to(layout, out_shape, op))
    }

    /// Sums a view over the dims where `out_shape` (same rank) has size 1; the result is contiguous.
    pub fn sum_to(&self, layout: &Layout, out_shape: &[usize]) -> Result<Self> {
        self.reduce_to(layout, out_shape, ReduceOp::Sum)
    }

    /// The `[m, n]` product of two strided 2-D views `[m, k]` and `[k, n]`.
    pub fn matmul(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<Self> {
        match Self::pair("matmul", self, rhs)? {
            Backends::Cpu([a, b]) => a.matmul(lhs, b, rhs_layout).map(Storage::Cpu),
            Backends::Cuda([a, b]) => a.matmul(lhs, b, rhs_layout).map(Storage::Cuda),
        }
    }

    /// `lhs rhs + c`, `c` a view of the `[m, n]` product's shape (a broadcast bias); see
    /// [`BackendStorage::addmm`].
    pub fn addmm(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, c: &Self, c_layout: &Layout) -> Result<Self> {
        match Self::triple("linear", self, rhs, c)? {
            Backends::Cpu([a, b, c]) => a.addmm(lhs, b, rhs_layout, c, c_layout).map(Storage::Cpu),
            Backends::Cuda([a, b, c]) => a.addmm(lhs, b, rhs_layout, c, c_layout).map(Storage::Cuda),
        }
    }

    /// `lhs - rhs` (two views of one shape, contiguous result) and the sum of its squares, one element.
    pub fn sub_square_sum(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<(Self, Self)> {
        match Self::pair("mse_loss", self, rhs)? {
            Backends::Cpu([a, b]) => {
                a.sub_square_sum(lhs, b, rhs_layout).map(|(d, s)| (Storage::Cpu(d), Storage::Cpu(s)))
            }
            Backends::Cuda([a, b]) => {
                a.sub_square_sum(lhs, b, rhs_layout).map(|(d, s)| (Storage::Cuda(d), Storage::Cuda(s)))
            }
        }
    }

    /// Softmax (`log`: log-softmax) along `dim` of a view; the result is contiguous.
    pub fn softmax(&self, layout: &Layout, dim: usize, log: bool) -> Result<Self> {
        on_backend!(self, |s| s.softmax(layout, dim, log))
    }

    /// The gradient of [`Storage::softmax`] from its output (this view) and the incoming gradient.
    pub fn softmax_grad(
        &self,
        layout: &Layout,
        grad: &Self,
        grad_layout: &Layout,
        dim: usize,
        log: bool,
    ) -> Result<Self> {
        match Self::pair("backward", self, grad)? {
            Backends::Cpu([y, g]) => y.softmax_grad(layout, g, grad_layout, dim, log).map(Storage::Cpu),
            Backends::Cuda([y, g]) => y.softmax_grad(layout, g, grad_layout, dim, log).map(Storage::Cuda),
        }
    }

    /// Rows `indices` of dim 0 of a view; the result is contiguous.
    pub fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        on_backend!(self, |s| s.index_select0(layout, indices))
    }

    /// Adds row `i` of the view `src_layout` of `src` into row `indices[i]` of this contiguous buffer.
    /// See [`BackendStorage::im2col`].
    pub fn im2col(&self, layout: &Layout, windows: &window::Windows, pad: T) -> Result<Self> {
        on_backend!(self, |s| s.im2col(layout, windows, pad))
    }

    /// See [`BackendStorage::col2im`].
    pub fn col2im(&self, layout: &Layout, windows: &window::Windows) -> Result<Self> {
        on_backend!(self, |s| s.col2im(layout, windows))
    }

    pub fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()> {
        const OP: &str = "index_add";
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => d.index_add0(row_len, s, src_layout, indices),
            (Storage::Cuda(d), Storage::Cuda(s)) if d.device() == s.device() => {
                d.index_add0(row_len, s, src_layout, indices)
            }
            (d, s) => Err(Error::DeviceMismatch { op: OP, lhs: d.device(), rhs: s.device() }),
        }
    }

    /// `dst op= src` elementwise over the view `dst`, with `src` (another buffer) already broadcast to its
    /// shape. Refuses a destination view with two elements at one address, as torch does.
    pub fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()> {
        const OP: &str = "in-place op";
        check_no_overlap(OP, dst)?;
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => d.assign(dst, s, src_layout, op),
            (Storage::Cuda(d), Storage::Cuda(s)) if d.device() == s.device() => d.assign(dst, s, src_layout, op),
            (d, s) => Err(Error::DeviceMismatch { op: OP, lhs: d.device(), rhs: s.device() }),
        }
    }

    /// `dst += alpha · src` over the view `dst`, `src` (another buffer) already broadcast to its shape;
    /// refuses a destination view with two elements at one address.
    pub fn add_scaled(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, alpha: T) -> Result<()> {
        const OP: &str = "in-place op";
        check_no_overlap(OP, dst)?;
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => d.add_scaled(dst, s, src_layout, alpha),
            (Storage::Cuda(d), Storage::Cuda(s)) if d.device() == s.device() => d.add_scaled(dst, s, src_layout, alpha),
            (d, s) => Err(Error::DeviceMismatch { op: OP, lhs: d.device(), rhs: s.device() }),
        }
    }

    /// `dst += (value · t1) op t2` over the view `dst`, `t1` and `t2` (other buffers than `dst`) already
    /// broadcast to its shape; refuses a destination view with two elements at one address.
    #[allow(clippy::too_many_arguments)]
    pub fn addc(
        &mut self,
        dst: &Layout,
        t1: &Self,
        l1: &Layout,
        t2: &Self,
        l2: &Layout,
        op: AddcOp,
        value: T,
    ) -> Result<()> {
        let name = match op {
            AddcOp::Mul => "addcmul_",
            AddcOp::Div => "addcdiv_",
        };
        check_no_overlap(name, dst)?;
        // The devices of the sources against each other, then against the destination.
        let sources = Self::pair(name, t1, t2)?;
        match (self, sources) {
            (Storage::Cpu(d), Backends::Cpu([a, b])) => d.addc(dst, a, l1, b, l2, op, value),
            (Storage::Cuda(d), Backends::Cuda([a, b])) if d.device() == a.device() => {
                d.addc(dst, a, l1, b, l2, op, value)
            }
            (d, _) => Err(Error::DeviceMismatch { op: name, lhs: d.device(), rhs: t1.device() }),
        }
    }

    /// `dst = lerp(dst, end, weight)` over the view `dst`, `end` (another buffer) already broadcast to its
    /// shape; refuses a destination view with two elements at one address.
    pub fn lerp(&mut self, dst: &Layout, end: &Self, end_layout: &Layout, weight: T) -> Result<()> {
        const OP: &str = "lerp_";
        check_no_overlap(OP, dst)?;
        match (self, end) {
            (Storage::Cpu(d), Storage::Cpu(e)) => d.lerp(dst, e, end_layout, weight),
            (Storage::Cuda(d), Storage::Cuda(e)) if d.device() == e.device() => d.lerp(dst, e, end_layout, weight),
            (d, e) => Err(Error::DeviceMismatch { op: OP, lhs: d.device(), rhs: e.device() }),
        }
    }

    /// `x = op(x, c)` over the view `dst`, in place; refuses a view with two elements at one address, except
    /// for a fill.
    pub fn map_inplace(&mut self, dst: &Layout, op: UnaryOp, c: T) -> Result<()> {
        // A fill writes the same value to every element, so a location a broadcast view repeats ends the same
        // however often it is written: torch allows `fill_` and `zero_` through such views. The kernels get
        // each location once, as every other op would change a repeated location once per repeat.
        let distinct;
        let dst = if op == UnaryOp::Fill {
            distinct = dst.distinct();
            &distinct
        } else {
            dst
        };
        check_no_overlap("in-place op", dst)?;
        match self {
            Storage::Cpu(s) => s.map_inplace(dst, op, c),
            Storage::Cuda(s) => s.map_inplace(dst, op, c),
        }
    }
}

/// An empty host vector with room for `n` elements from the CPU buffer cache, for code that builds a tensor's
/// elements on the host: made into a tensor (`Tensor::from_vec`), it goes back to the cache with it.
pub(crate) fn host_buffer<T: Element>(n: usize) -> Vec<T> {
    cpu::cache::take(n)
}

pub(crate) fn too_large(op: &'static str, n: usize) -> Error {
    Error::invalid(op, format!("cannot allocate {n} elements"))
}
