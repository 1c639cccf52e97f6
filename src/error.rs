//! The one error type of torchlet. Every message names the operation and the values involved.

use crate::device::Device;

/// Everything that can go wrong in torchlet.
///
/// Messages follow one pattern, `op: what is wrong with which values`, e.g.
/// `matmul: shapes [3, 4] and [5, 2] cannot be multiplied`.
///
/// ```
/// use torchlet::{Error, Tensor};
/// let err = Tensor::<f32>::ones(&[3, 4]).matmul(&Tensor::ones(&[5, 2])).unwrap_err();
/// assert_eq!(err.to_string(), "matmul: shapes [3, 4] and [5, 2] cannot be multiplied");
/// assert!(matches!(err, Error::Shape { op: "matmul", .. }));
/// ```
#[derive(Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit the operation.
    #[error("{op}: {msg}")]
    Shape {
        /// The operation, as the user called it (`add`, `matmul`, `reshape`, ...).
        op: &'static str,
        /// What does not fit, with the shapes.
        msg: String,
    },

    /// A dimension index outside `[-rank, rank)`.
    #[error("{op}: dimension {dim} is out of range for shape {shape:?} (expected a dim in [{lo}, {hi}])")]
    DimOutOfRange {
        /// The operation.
        op: &'static str,
        /// The dimension asked for, as given (negative counts from the end).
        dim: isize,
        /// The shape of the tensor it was asked of.
        shape: Vec<usize>,
        /// The lowest valid dimension, `-rank`.
        lo: isize,
        /// The highest valid dimension, `rank - 1`.
        hi: isize,
    },

    /// Operands on different devices.
    #[error("{op}: expected all tensors on the same device, found {lhs} and {rhs}")]
    DeviceMismatch {
        /// The operation.
        op: &'static str,
        /// The device of the first operand.
        lhs: Device,
        /// The device of the second operand.
        rhs: Device,
    },

    /// An argument out of its domain (learning rate, batch size, index, ...).
    #[error("{op}: {msg}")]
    InvalidArgument {
        /// The operation or constructor (`SGD`, `DataLoader`, ...).
        op: &'static str,
        /// Which argument is wrong, with its value and the valid range.
        msg: String,
    },

    /// Misuse of the autograd machinery (non-scalar backward, freed graph, in-place change of a saved tensor, ...).
    #[error("{op}: {msg}")]
    Autograd {
        /// The operation, or the backward node (`MulBackward0`) that found the problem.
        op: &'static str,
        /// What was misused, and how to do it instead.
        msg: String,
    },

    /// CUDA is not available, or a CUDA call failed.
    #[error("CUDA: {0}")]
    Cuda(String),

    /// Reading or writing a file failed, or its contents are malformed.
    #[error("{op}: {msg}")]
    Io {
        /// The function (`load_parameters`, `read_csv`, ...).
        op: &'static str,
        /// The file, and what is wrong with it or with reading it.
        msg: String,
    },

    /// An error inside a container's layer, with where it happened: `Sequential[3] (Linear): Linear: input of
    /// shape [4, 32] has 32 features, but in_features is 16`. [`Error::root`] is the layer's own error.
    #[error("{at}: {source}")]
    InModule {
        /// The container, the layer's index and its type (`Sequential[3] (Linear)`).
        at: String,
        /// The layer's error.
        source: Box<Error>,
    },
}

/// Debug-formats as the message itself, so that `main() -> torchlet::Result<()>` and `unwrap()` print
/// `Error: matmul: shapes [3, 4] and [5, 2] cannot be multiplied` rather than the enum's fields.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// `Result` with torchlet's [`Error`].
///
/// ```
/// fn first_row(x: &torchlet::Tensor<f64>) -> torchlet::Result<Vec<f64>> {
///     x.narrow(0, 0, 1)?.to_vec()
/// }
/// assert_eq!(first_row(&torchlet::Tensor::new([[1.0, 2.0], [3.0, 4.0]]))?, vec![1.0, 2.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Constructors for the two errors that code built on torchlet (a layer of its own, a model) raises most.
impl Error {
    /// [`Error::Shape`]: `op` got shapes that do not fit, as `msg` says.
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape { op, msg: msg.into() }
    }

    /// [`Error::InvalidArgument`]: an argument of `op` is out of its domain, as `msg` says.
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument { op, msg: msg.into() }
    }

    pub(crate) fn autograd(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Autograd { op, msg: msg.into() }
    }

    /// The error itself, under any [`Error::InModule`] layers of where it happened.
    ///
    /// ```
    /// use torchlet::nn::{Linear, Module, Sequential};
    /// use torchlet::{Error, Tensor};
    /// let model = Sequential::<f32>::new().add(Linear::new(2, 3)).add(Linear::new(4, 1));
    /// let err = model.forward(&Tensor::zeros(&[5, 2])).unwrap_err();
    /// assert!(err.to_string().starts_with("Sequential[1] (Linear): Linear: "), "{err}");
    /// assert!(matches!(err.root(), Error::Shape { op: "Linear", .. }));
    /// ```
    pub fn root(&self) -> &Error {
        match self {
            Error::InModule { source, .. } => source.root(),
            other => other,
        }
    }
}
