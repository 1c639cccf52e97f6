//! Device storage: a flat buffer of elements on one device, and the primitive kernels over strided views of it.
//!
//! This is the bottom layer: it knows layouts and elements, nothing of autograd. Every tensor op is built
//! from the few primitives here, so a backend (CPU, CUDA) implements only these.

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;

use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;

/// An elementwise function of one operand (scalars travel inside the op).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UnaryOp<T> {
    Identity,
    Neg,
    Square,
    Sqrt,
    Exp,
    Log,
    Abs,
    Sign,
    Powf(T),
    Add(T),
    Mul(T),
    /// `c - x`
    RSub(T),
    /// `c / x`
    RDiv(T),
    /// `x / c`
    Div(T),
    /// `c` everywhere (fills and zeroing).
    Fill(T),
}

impl<T> UnaryOp<T> {
    /// The op's code in the CUDA kernels (kernels/unary.cu keeps the same numbering).
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    pub fn code(&self) -> i32 {
        match self {
            UnaryOp::Identity => 0,
            UnaryOp::Neg => 1,
            UnaryOp::Square => 2,
            UnaryOp::Sqrt => 3,
            UnaryOp::Exp => 4,
            UnaryOp::Log => 5,
            UnaryOp::Abs => 6,
            UnaryOp::Sign => 7,
            UnaryOp::Powf(_) => 8,
            UnaryOp::Add(_) => 9,
            UnaryOp::Mul(_) => 10,
            UnaryOp::RSub(_) => 11,
            UnaryOp::RDiv(_) => 12,
            UnaryOp::Div(_) => 13,
            UnaryOp::Fill(_) => 14,
        }
    }
}

/// An elementwise function of two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    /// The op's code in the CUDA kernels (kernels/binary.cu keeps the same numbering).
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A buffer of elements on one device.
#[derive(Debug)]
pub(crate) enum Storage<T: Element> {
    Cpu(Vec<T>),
    #[cfg(feature = "cuda")]
    Cuda(cuda::CudaStorage<T>),
}

/// Applies `$body` to the backend storage of both operands, or fails when their devices differ.
macro_rules! same_device {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $cpu:expr $(, cuda |$cx:ident, $cy:ident| $cuda:expr)?) => {
        match ($a, $b) {
            (Storage::Cpu($x), Storage::Cpu($y)) => $cpu,
            $(#[cfg(feature = "cuda")]
            (Storage::Cuda($cx), Storage::Cuda($cy)) => $cuda,)?
            #[allow(unreachable_patterns)]
            (a, b) => Err(Error::DeviceMismatch { op: $op, lhs: a.device(), rhs: b.device() }),
        }
    };
}

impl<T: Element> Storage<T> {
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.device(),
        }
    }

    /// A fresh buffer of `n` copies of `value` on `device`.
    pub fn full(n: usize, value: T, device: Device) -> Result<Self> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(vec![value; n])),
            Device::Cuda(ordinal) => Self::cuda_full(n, value, ordinal),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_full(n: usize, value: T, ordinal: usize) -> Result<Self> {
        cuda::CudaStorage::full(n, value, ordinal).map(Storage::Cuda)
    }

    #[cfg(not(feature = "cuda"))]
    fn cuda_full(_n: usize, _value: T, ordinal: usize) -> Result<Self> {
        Err(crate::cuda_unavailable(ordinal))
    }

    /// Host data moved to `device`.
    pub fn from_vec(data: Vec<T>, device: Device) -> Result<Self> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(data)),
            #[cfg(feature = "cuda")]
            Device::Cuda(ordinal) => cuda::CudaStorage::from_host(&data, ordinal).map(Storage::Cuda),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(ordinal) => Err(crate::cuda_unavailable(ordinal)),
        }
    }

    /// The elements of a view, in row-major order, on the host.
    pub fn to_vec(&self, layout: &Layout) -> Result<Vec<T>> {
        match self {
            Storage::Cpu(data) => Ok(cpu::unary(data, layout, UnaryOp::Identity)),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.to_vec(layout),
        }
    }

    /// `op` applied to every element of a view; the result is contiguous.
    pub fn unary(&self, layout: &Layout, op: UnaryOp<T>) -> Result<Self> {
        match self {
            Storage::Cpu(data) => Ok(Storage::Cpu(cpu::unary(data, layout, op))),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.unary(layout, op).map(Storage::Cuda),
        }
    }

    /// `lhs op rhs` for two views already broadcast to the same shape; the result is contiguous.
    pub fn binary(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, op: BinaryOp) -> Result<Self> {
        same_device!(
            "binary op",
            self,
            rhs,
            |a, b| Ok(Storage::Cpu(cpu::binary(a, lhs, b, rhs_layout, op))),
            cuda | a,
            b | a.binary(lhs, b, rhs_layout, op).map(Storage::Cuda)
        )
    }

    /// Sums a view over the dims where `out_shape` (same rank) has size 1; the result is contiguous.
    pub fn sum_to(&self, layout: &Layout, out_shape: &[usize]) -> Result<Self> {
        match self {
            Storage::Cpu(data) => Ok(Storage::Cpu(cpu::sum_to(data, layout, out_shape))),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.sum_to(layout, out_shape).map(Storage::Cuda),
        }
    }

    /// The `[m, n]` product of two strided 2-D views `[m, k]` and `[k, n]`.
    pub fn matmul(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<Self> {
        same_device!(
            "matmul",
            self,
            rhs,
            |a, b| Ok(Storage::Cpu(cpu::matmul(a, lhs, b, rhs_layout))),
            cuda | a,
            b | a.matmul(lhs, b, rhs_layout).map(Storage::Cuda)
        )
    }

    /// Rows `indices` of dim 0 of a view; the result is contiguous.
    pub fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        match self {
            Storage::Cpu(data) => Ok(Storage::Cpu(cpu::index_select0(data, layout, indices))),
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.index_select0(layout, indices).map(Storage::Cuda),
        }
    }

    /// Adds row `i` of the contiguous `src` into row `indices[i]` of this contiguous buffer.
    pub fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()> {
        same_device!(
            "index_add",
            self,
            src,
            |a, b| {
                cpu::index_add0(a, row_len, b, src_layout, indices);
                Ok(())
            },
            cuda | a,
            b | a.index_add0(row_len, b, src_layout, indices)
        )
    }

    /// `dst op= src` elementwise over the view `dst`, with `src` already broadcast to its shape.
    pub fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()> {
        same_device!(
            "in-place op",
            self,
            src,
            |a, b| {
                cpu::assign(a, dst, b, src_layout, op);
                Ok(())
            },
            cuda | a,
            b | a.assign(dst, b, src_layout, op)
        )
    }

    /// `x = op(x)` over the view `dst`, in place.
    pub fn map_inplace(&mut self, dst: &Layout, op: UnaryOp<T>) -> Result<()> {
        match self {
            Storage::Cpu(data) => {
                cpu::map_inplace(data, dst, op);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            Storage::Cuda(s) => s.map_inplace(dst, op),
        }
    }
}
