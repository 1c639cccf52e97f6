//! Pooling layers: `nn.MaxPool1d/2d`, `nn.AvgPool1d/2d` and `nn.AdaptiveAvgPool2d`, each its options and
//! the functional op of the same name.

use super::Module;
use crate::element::Element;
use crate::error::Result;
use crate::ops::{
    adaptive_avg_pool2d, avg_pool, max_pool, max_pool_values, AvgPoolOptions, MaxPoolOptions, SpatialSize,
};
use crate::tensor::Tensor;

/// 1-D max pooling (`torch.nn.MaxPool1d`) over `[N, C, L]` or `[C, L]`.
///
/// ```
/// use torchlet::nn::{functional::MaxPool1dOptions, MaxPool1d, Module};
/// let pool = MaxPool1d::with_options(MaxPool1dOptions::new(2).stride(1));
/// assert_eq!(pool.forward(&torchlet::Tensor::new([[1.0, 3.0, 2.0]]))?.to_vec()?, vec![3.0, 3.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool1d(MaxPoolOptions<1>);

/// 2-D max pooling (`torch.nn.MaxPool2d`) over `[N, C, H, W]` or `[C, H, W]`.
///
/// ```
/// use torchlet::nn::{MaxPool2d, Module};
/// let y = MaxPool2d::new(2).forward(&torchlet::Tensor::<f32>::zeros(&[1, 3, 8, 6]))?;
/// assert_eq!(y.shape(), &[1, 3, 4, 3]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d(MaxPoolOptions<2>);

/// 1-D average pooling (`torch.nn.AvgPool1d`) over `[N, C, L]` or `[C, L]`.
///
/// ```
/// use torchlet::nn::{AvgPool1d, Module};
/// assert_eq!(AvgPool1d::new(2).forward(&torchlet::Tensor::new([[1.0, 3.0, 2.0, 6.0]]))?.to_vec()?, vec![2.0, 4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AvgPool1d(AvgPoolOptions<1>);

/// 2-D average pooling (`torch.nn.AvgPool2d`) over `[N, C, H, W]` or `[C, H, W]`.
///
/// ```
/// use torchlet::nn::{functional::AvgPool2dOptions, AvgPool2d, Module};
/// let pool = AvgPool2d::with_options(AvgPool2dOptions::new(3).stride(2).padding(1));
/// assert_eq!(pool.forward(&torchlet::Tensor::<f64>::ones(&[2, 4, 5, 5]))?.shape(), &[2, 4, 3, 3]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d(AvgPoolOptions<2>);

/// The constructors, options accessor and [`Module`] impl of each pooling layer.
macro_rules! pool_layer {
    ($name:ident, $options:ident, $d:literal, $run:expr) => {
        impl $name {
            /// A layer with windows of `kernel_size` (one number or one per dim) and torch's defaults for the
            /// rest (stride = kernel size, no padding).
            pub fn new(kernel_size: impl SpatialSize<$d>) -> Self {
                $name($options::new(kernel_size))
            }

            /// A layer with these options.
            pub fn with_options(options: $options<$d>) -> Self {
                $name(options)
            }

            /// The layer's options.
            pub fn options(&self) -> &$options<$d> {
                &self.0
            }
        }

        impl<T: Element> Module<T> for $name {
            fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
                $run(input, &self.0)
            }
        }
    };
}

pool_layer!(MaxPool1d, MaxPoolOptions, 1, |x, o| Ok(max_pool_values("max_pool1d", x, o)?.0));
pool_layer!(MaxPool2d, MaxPoolOptions, 2, |x, o| Ok(max_pool_values("max_pool2d", x, o)?.0));
pool_layer!(AvgPool1d, AvgPoolOptions, 1, |x, o| avg_pool("avg_pool1d", x, o));
pool_layer!(AvgPool2d, AvgPoolOptions, 2, |x, o| avg_pool("avg_pool2d", x, o));

impl MaxPool1d {
    /// The output and, beside it, the index of each window's maximum (`return_indices=True`).
    pub fn forward_with_indices<T: Element>(&self, input: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>)> {
        max_pool("max_pool1d", input, &self.0)
    }
}

impl MaxPool2d {
    /// The output and, beside it, the flat index `h · W + w` of each window's maximum within its plane
    /// (`return_indices=True`).
    ///
    /// ```
    /// use torchlet::nn::MaxPool2d;
    /// let (y, i) = MaxPool2d::new(2).forward_with_indices(&torchlet::Tensor::new([[[1.0, 4.0], [3.0, 2.0]]]))?;
    /// assert_eq!((y.to_vec()?, i.to_vec()?), (vec![4.0], vec![1.0]));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn forward_with_indices<T: Element>(&self, input: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>)> {
        max_pool("max_pool2d", input, &self.0)
    }
}

/// Adaptive 2-D average pooling to a fixed output size (`torch.nn.AdaptiveAvgPool2d`).
///
/// ```
/// use torchlet::nn::{AdaptiveAvgPool2d, Module};
/// let pool = AdaptiveAvgPool2d::new([1, 1]);
/// assert_eq!(pool.forward(&torchlet::Tensor::<f32>::ones(&[2, 16, 7, 5]))?.shape(), &[2, 16, 1, 1]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdaptiveAvgPool2d {
    output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// A layer that pools to `output_size` (one number or `[oH, oW]`).
    pub fn new(output_size: impl SpatialSize<2>) -> Self {
        AdaptiveAvgPool2d { output_size: output_size.per_dim() }
    }

    /// The output size `[oH, oW]`.
    pub fn output_size(&self) -> [usize; 2] {
        self.output_size
    }
}

impl<T: Element> Module<T> for AdaptiveAvgPool2d {
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        adaptive_avg_pool2d(input, self.output_size)
    }
}
