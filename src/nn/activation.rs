//! Activation layers and `Flatten`, as `torch.nn` has them: modules without parameters over the tensor ops.

use super::Module;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::GeluApproximate;
use crate::tensor::Tensor;

macro_rules! activation {
    ($(#[doc = $doc:literal])* $name:ident, |$x:ident| $body:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq)]
        pub struct $name;

        impl $name {
            /// The layer (torch's default arguments).
            pub fn new() -> Self {
                $name
            }
        }

        impl<T: Element> Module<T> for $name {
            fn forward(&self, $x: &Tensor<T>) -> Result<Tensor<T>> {
                $body
            }

        }
    };
}

activation!(
    /// `max(x, 0)` (`nn.ReLU`).
    ReLU, |x| x.relu()
);
activation!(
    /// `1 / (1 + e^-x)` (`nn.Sigmoid`).
    Sigmoid, |x| x.sigmoid()
);
activation!(
    /// `tanh x` (`nn.Tanh`).
    Tanh, |x| x.tanh()
);
activation!(
    /// `x σ(x)` (`nn.SiLU`).
    SiLU, |x| x.silu()
);

/// `x` where positive, else `negative_slope · x` (`nn.LeakyReLU`, default slope 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyReLU {
    /// The slope below 0.
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU { negative_slope: 0.01 }
    }
}

impl LeakyReLU {
    /// The layer with the given slope below 0.
    pub fn new(negative_slope: f64) -> Self {
        LeakyReLU { negative_slope }
    }
}

impl<T: Element> Module<T> for LeakyReLU {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.leaky_relu(T::from_f64_lossy(self.negative_slope))
    }
}

/// GELU (`nn.GELU`), exact by default or with torch's `approximate="tanh"`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GELU {
    /// Which form is computed.
    pub approximate: GeluApproximate,
}

impl GELU {
    /// The layer computing the given form.
    pub fn new(approximate: GeluApproximate) -> Self {
        GELU { approximate }
    }
}

impl<T: Element> Module<T> for GELU {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.gelu(self.approximate)
    }
}

/// `exp(x) / Σ exp(x)` along `dim` (`nn.Softmax(dim)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softmax {
    /// The dim the probabilities sum to 1 along.
    pub dim: isize,
}

impl Softmax {
    /// The layer normalising along `dim`.
    pub fn new(dim: isize) -> Self {
        Softmax { dim }
    }
}

impl<T: Element> Module<T> for Softmax {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.softmax(self.dim)
    }
}

/// `x - log Σ exp(x)` along `dim` (`nn.LogSoftmax(dim)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSoftmax {
    /// The dim normalised along.
    pub dim: isize,
}

impl LogSoftmax {
    /// The layer normalising along `dim`.
    pub fn new(dim: isize) -> Self {
        LogSoftmax { dim }
    }
}

impl<T: Element> Module<T> for LogSoftmax {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.log_softmax(self.dim)
    }
}

/// Merges dims `start_dim..=end_dim` (`nn.Flatten`, default `1..=-1`: everything but the batch dim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flatten {
    /// The first dim merged.
    pub start_dim: isize,
    /// The last dim merged.
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten { start_dim: 1, end_dim: -1 }
    }
}

impl Flatten {
    /// `nn.Flatten()`: all dims after the batch dim merged.
    pub fn new() -> Self {
        Self::default()
    }

    /// `nn.Flatten(start_dim, end_dim)`: dims `start_dim..=end_dim` merged (negative counts from the end).
    ///
    /// ```
    /// use torchlet::nn::{Flatten, Module};
    /// use torchlet::Tensor;
    /// let x = Tensor::<f32>::zeros(&[2, 3, 4, 5]);
    /// assert_eq!(Flatten::new().forward(&x)?.shape(), &[2, 60]);
    /// assert_eq!(Flatten::with_dims(0, -2).forward(&x)?.shape(), &[24, 5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn with_dims(start_dim: isize, end_dim: isize) -> Self {
        Flatten { start_dim, end_dim }
    }
}

impl<T: Element> Module<T> for Flatten {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.flatten(self.start_dim, self.end_dim)
    }
}

/// Splits dim `dim` into `sizes` (`nn.Unflatten(dim, unflattened_size)`), the inverse of [`Flatten`]: one
/// size may be -1, inferred from the others, as in torch.
///
/// ```
/// use torchlet::nn::{Module, Unflatten};
/// use torchlet::Tensor;
/// let x = Tensor::<f32>::zeros(&[2, 60]);
/// assert_eq!(Unflatten::new(1, &[3, 4, 5]).forward(&x)?.shape(), &[2, 3, 4, 5]);
/// assert_eq!(Unflatten::new(-1, &[-1, 5]).forward(&x)?.shape(), &[2, 12, 5]);
/// let err = Unflatten::new(1, &[7, 8]).forward(&x).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "unflatten: Provided sizes [7, 8] don't multiply up to the size of dim 1 (60) in the input tensor"
/// );
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unflatten {
    /// The dim split (negative counts from the end).
    pub dim: isize,
    /// The sizes it is split into; one may be -1.
    pub sizes: Vec<isize>,
}

impl Unflatten {
    /// The layer splitting `dim` into `sizes`.
    pub fn new(dim: isize, sizes: &[isize]) -> Self {
        Unflatten { dim, sizes: sizes.to_vec() }
    }
}

impl<T: Element> Module<T> for Unflatten {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        const OP: &str = "unflatten";
        let d = crate::shape::resolve_dim(OP, self.dim, x.shape())?;
        let size = x.shape()[d];
        if self.sizes.is_empty() {
            return Err(Error::invalid(OP, "sizes must be non-empty"));
        }
        let inferred: Vec<usize> = self.sizes.iter().enumerate().filter(|(_, &s)| s == -1).map(|(i, _)| i).collect();
        if inferred.len() > 1 || self.sizes.iter().any(|&s| s < -1) {
            return Err(Error::invalid(
                OP,
                format!("invalid sizes {:?}: only one dim can be -1, the others >= 0", self.sizes),
            ));
        }
        let known: usize = self.sizes.iter().filter(|&&s| s >= 0).map(|&s| s as usize).product();
        let mut sizes: Vec<usize> = self.sizes.iter().map(|&s| s.max(0) as usize).collect();
        let fits = match inferred.first() {
            Some(&i) if known > 0 && size.is_multiple_of(known) => {
                sizes[i] = size / known;
                true
            }
            Some(_) => false,
            None => known == size,
        };
        if !fits {
            return Err(Error::shape(
                OP,
                format!(
                    "Provided sizes {:?} don't multiply up to the size of dim {} ({size}) in the input tensor",
                    self.sizes, self.dim
                ),
            ));
        }
        let mut shape = x.shape()[..d].to_vec();
        shape.extend_from_slice(&sizes);
        shape.extend_from_slice(&x.shape()[d + 1..]);
        x.reshape(&shape)
    }
}
