//! Activation layers and `Flatten`, as `torch.nn` has them: modules without parameters over the tensor ops.

use super::Module;
use crate::element::Element;
use crate::error::Result;
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
}

impl<T: Element> Module<T> for Flatten {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.flatten(self.start_dim, self.end_dim)
    }
}
