//! `nn.Conv1d` and `nn.Conv2d`: a weight `[out, in/groups, k…]`, an optional bias `[out]` and the
//! convolution's options, with torch's default initialisation.

use super::init::{kaiming_uniform_bound, uniform};
use super::Module;
use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::{convolution, ConvOptions, Padding, SpatialSize};
use crate::tensor::Tensor;
use rand::Rng;

/// The parameters and options of a `D`-dimensional convolution layer.
struct Layer<T: Element, const D: usize> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    options: ConvOptions<D>,
}

impl<T: Element, const D: usize> Layer<T, D> {
    /// torch's `_ConvNd.__init__` checks, then `reset_parameters`: weight and bias ~ U(±1/√fan_in) with
    /// fan_in = in/groups·∏k (kaiming_uniform with a = √5 for the weight), the weight drawn first.
    fn init<R: Rng + ?Sized>(
        op: &'static str,
        channels: [usize; 2],
        kernel: [usize; D],
        options: ConvOptions<D>,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        let [in_channels, out_channels] = channels;
        let groups = options.groups;
        if groups == 0 {
            return Err(Error::invalid(op, "groups must be a positive integer"));
        }
        if in_channels % groups != 0 || out_channels % groups != 0 {
            let which = if in_channels % groups != 0 { "in_channels" } else { "out_channels" };
            return Err(Error::invalid(
                op,
                format!("{which} must be divisible by groups (in_channels {in_channels}, out_channels {out_channels}, groups {groups})"),
            ));
        }
        if options.padding == Padding::Same && options.stride.iter().any(|&s| s != 1) {
            return Err(Error::invalid(op, "padding='same' is not supported for strided convolutions"));
        }
        let mut shape = vec![out_channels, in_channels / groups];
        shape.extend_from_slice(&kernel);
        let fan_in = crate::shape::checked_numel(op, &shape[1..])?;
        crate::shape::checked_numel(op, &shape)?;
        let weight_bound = kaiming_uniform_bound(fan_in, 5f64.sqrt());
        let weight = uniform(&shape, -weight_bound, weight_bound, rng);
        let bias = bias.then(|| {
            let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
            uniform(&[out_channels], -bound, bound, rng)
        });
        Ok(Self::from_leaves(weight, bias, options))
    }

    fn from_parameters(
        op: &'static str,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        options: ConvOptions<D>,
    ) -> Result<Self> {
        if weight.rank() != D + 2 {
            return Err(Error::shape(
                op,
                format!(
                    "weight must be {}-D [out_channels, in_channels/groups, k...], got shape {:?}",
                    D + 2,
                    weight.shape()
                ),
            ));
        }
        if let Some(b) = bias.filter(|b| b.shape() != [weight.shape()[0]]) {
            return Err(Error::shape(
                op,
                format!("bias must have shape [{}] (out_channels), got {:?}", weight.shape()[0], b.shape()),
            ));
        }
        let copy = |t: &Tensor<T>| no_grad(|| t.deep_clone());
        let bias = bias.map(copy).transpose()?;
        Ok(Self::from_leaves(copy(weight)?, bias, options))
    }

    fn from_leaves(weight: Tensor<T>, bias: Option<Tensor<T>>, options: ConvOptions<D>) -> Self {
        let leaf = |t: Tensor<T>| t.requires_grad_(true).expect("a fresh tensor is a leaf");
        Layer { weight: leaf(weight), bias: bias.map(leaf), options }
    }

    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        // Errors from the forward name the functional op, as torch's do.
        const OPS: [&str; 2] = ["conv1d", "conv2d"];
        convolution(OPS[D - 1], input, &self.weight, self.bias.as_ref(), &self.options)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut params = vec![("weight".to_string(), self.weight.clone())];
        params.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        params
    }
}

/// A 1-D convolution layer (`torch.nn.Conv1d`): weight `[out, in/groups, k]`, optional bias `[out]`;
/// input `[N, in, L]` or `[in, L]`. Both parameters are leaves with `requires_grad = true`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{functional::Conv1dOptions, Conv1d, Module};
/// use torchlet::Tensor;
/// let conv = Conv1d::<f32>::with_rng(2, 4, 3, Conv1dOptions::default().padding(1), true, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(conv.forward(&Tensor::zeros(&[5, 2, 10]))?.shape(), &[5, 4, 10]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Conv1d<T: Element>(Layer<T, 1>);

/// A 2-D convolution layer (`torch.nn.Conv2d`): weight `[out, in/groups, kH, kW]`, optional bias `[out]`;
/// input `[N, in, H, W]` or `[in, H, W]`. Both parameters are leaves with `requires_grad = true`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::{functional::Conv2dOptions, Conv2d, Module};
/// use torchlet::Tensor;
/// let opts = Conv2dOptions::default().stride(2).padding(1);
/// let conv = Conv2d::<f64>::with_rng(3, 8, 3, opts, true, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(conv.weight().shape(), &[8, 3, 3, 3]);
/// assert_eq!(conv.forward(&Tensor::zeros(&[2, 3, 9, 8]))?.shape(), &[2, 8, 5, 4]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Conv2d<T: Element>(Layer<T, 2>);

/// The constructors, accessors and [`Module`] impl shared by [`Conv1d`] and [`Conv2d`].
macro_rules! conv_layer {
    ($name:ident, $d:literal, $op:literal) => {
        impl<T: Element> $name<T> {
            #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size)`: stride 1, no padding, a bias,")]
            /// and torch's default init drawn from the default generator ([`crate::manual_seed`]).
            ///
            /// # Panics
            /// For a weight of more elements than memory can hold, as [`Tensor::zeros`] does; nothing else can
            /// fail with the default options.
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl SpatialSize<$d>) -> Self {
                Self::with_options(in_channels, out_channels, kernel_size, ConvOptions::default(), true)
                    .unwrap_or_else(|e| panic!("{e}"))
            }

            /// A layer with these options (stride, padding, dilation, groups) and, if `bias`, a bias, drawn
            /// from the default generator; fails as [`Self::with_rng`] does.
            pub fn with_options(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl SpatialSize<$d>,
                options: ConvOptions<$d>,
                bias: bool,
            ) -> Result<Self> {
                crate::random::with_default_generator(|rng| {
                    Self::with_rng(in_channels, out_channels, kernel_size, options, bias, rng)
                })
            }

            #[doc = concat!("A layer with torch's default init drawn from `rng` (`nn.", stringify!($name), "(in, out, kernel_size, ...)`):")]
            /// weight and bias ~ U(±1/√fan_in) with fan_in = `in_channels / groups · ∏kernel_size`, the weight
            /// drawn first. Fails, as torch's constructor, when `groups` does not divide both channel counts,
            /// or for `padding="same"` with a stride.
            pub fn with_rng<R: Rng + ?Sized>(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl SpatialSize<$d>,
                options: ConvOptions<$d>,
                bias: bool,
                rng: &mut R,
            ) -> Result<Self> {
                let channels = [in_channels, out_channels];
                Ok($name(Layer::init($op, channels, kernel_size.per_dim(), options, bias, rng)?))
            }

            /// A layer holding copies of `weight` (`[out, in/groups, k…]`) and `bias` (`[out]`, or none), as
            /// fresh leaves that require grad, with these options.
            pub fn from_parameters(
                weight: &Tensor<T>,
                bias: Option<&Tensor<T>>,
                options: ConvOptions<$d>,
            ) -> Result<Self> {
                Ok($name(Layer::from_parameters($op, weight, bias, options)?))
            }

            /// The weight, `[out_channels, in_channels / groups, k…]`: the parameter itself, not a copy.
            pub fn weight(&self) -> &Tensor<T> {
                &self.0.weight
            }

            /// The bias, `[out_channels]`, or `None` for a layer without one.
            pub fn bias(&self) -> Option<&Tensor<T>> {
                self.0.bias.as_ref()
            }

            /// The stride, padding, dilation and groups the layer convolves with.
            pub fn options(&self) -> &ConvOptions<$d> {
                &self.0.options
            }
        }

        impl<T: Element> Module<T> for $name<T> {
            fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
                self.0.forward(input)
            }

            /// `weight`, then `bias` if the layer has one, as torch's `state_dict`.
            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                self.0.named_parameters()
            }
        }
    };
}

conv_layer!(Conv1d, 1, "Conv1d");
conv_layer!(Conv2d, 2, "Conv2d");
