//! The one error type of torchlet. Every message names the operation and the values involved.

use crate::device::Device;

/// Everything that can go wrong in torchlet.
///
/// Messages follow one pattern, `op: what is wrong with which values`, e.g.
/// `matmul: shapes [3, 4] and [5, 2] cannot be multiplied`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit the operation.
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },

    /// A dimension index outside `[-rank, rank)`.
    #[error("{op}: dimension {dim} is out of range for shape {shape:?} (expected a dim in [{lo}, {hi}])")]
    DimOutOfRange { op: &'static str, dim: isize, shape: Vec<usize>, lo: isize, hi: isize },

    /// Operands on different devices.
    #[error("{op}: expected all tensors on the same device, found {lhs} and {rhs}")]
    DeviceMismatch { op: &'static str, lhs: Device, rhs: Device },

    /// An argument out of its domain (learning rate, batch size, index, ...).
    #[error("{op}: {msg}")]
    InvalidArgument { op: &'static str, msg: String },

    /// Misuse of the autograd machinery (non-scalar backward, freed graph, in-place change of a saved tensor, ...).
    #[error("{op}: {msg}")]
    Autograd { op: &'static str, msg: String },

    /// CUDA is not available, or a CUDA call failed.
    #[error("CUDA: {0}")]
    Cuda(String),

    /// Reading or writing a file failed, or its contents are malformed.
    #[error("{op}: {msg}")]
    Io { op: &'static str, msg: String },
}

/// `Result` with torchlet's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape { op, msg: msg.into() }
    }

    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument { op, msg: msg.into() }
    }

    pub(crate) fn autograd(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Autograd { op, msg: msg.into() }
    }
}
