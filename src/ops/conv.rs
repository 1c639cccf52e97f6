//! Convolutions (`torch.nn.functional.conv1d` / `conv2d`) as im2col into the GEMM, composed from recorded
//! ops that every device implements: the input's windows become the column matrix `[N·L, kh·kw·C]`
//! (im2col, a storage primitive), one GEMM per group multiplies it by the weight as `[C_out, kh·kw·C]` onto
//! the bias (`linear`), and one copy puts the result in torch's `[N, C_out, *spatial]`. The backward is that
//! of the parts: the GEMM's for the weight and bias, col2im for the input.

use super::window::{check_positive, im2col, out_size, split_input, Axis, Windows};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A size per spatial dim, given as one number for all of them or as an array (`3` or `[3, 5]`).
pub trait SpatialSize<const D: usize> {
    /// The size along each of the `D` dims.
    fn per_dim(self) -> [usize; D];
}

impl<const D: usize> SpatialSize<D> for usize {
    fn per_dim(self) -> [usize; D] {
        [self; D]
    }
}

impl<const D: usize> SpatialSize<D> for [usize; D] {
    fn per_dim(self) -> [usize; D] {
        self
    }
}

/// A convolution's padding (torch's `padding=` argument): zeros on both sides of each dim, or `"same"` /
/// `"valid"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding<const D: usize> {
    /// This many zeros before and after the input along each dim.
    Explicit([usize; D]),
    /// `padding="same"`: the output has the input's size; `d·(k − 1)` zeros in all, the odd one on the
    /// right. Refused with a stride other than 1, as in torch.
    Same,
    /// `padding="valid"`: no padding.
    Valid,
}

impl<const D: usize> From<usize> for Padding<D> {
    fn from(p: usize) -> Self {
        Padding::Explicit([p; D])
    }
}

impl<const D: usize> From<[usize; D]> for Padding<D> {
    fn from(p: [usize; D]) -> Self {
        Padding::Explicit(p)
    }
}

/// The options of a `D`-dimensional convolution, torch's defaults in [`Default`]: stride 1, padding 0,
/// dilation 1, groups 1. Set them with the builder methods.
///
/// ```
/// use torchlet::nn::functional::{Conv2dOptions, Padding};
/// let opts = Conv2dOptions::default().stride(2).padding([1, 0]).groups(2);
/// assert_eq!(opts.padding, Padding::Explicit([1, 0]));
/// assert_eq!(Conv2dOptions::default().padding(Padding::Same).stride, [1, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions<const D: usize> {
    /// The step between windows along each dim.
    pub stride: [usize; D],
    /// Zeros around the input.
    pub padding: Padding<D>,
    /// The spacing between kernel taps along each dim.
    pub dilation: [usize; D],
    /// Input and output channels split into this many groups, each convolved on its own.
    pub groups: usize,
}

impl<const D: usize> Default for ConvOptions<D> {
    fn default() -> Self {
        ConvOptions { stride: [1; D], padding: Padding::Explicit([0; D]), dilation: [1; D], groups: 1 }
    }
}

impl<const D: usize> ConvOptions<D> {
    /// With this stride (one number or one per dim).
    pub fn stride(mut self, stride: impl SpatialSize<D>) -> Self {
        self.stride = stride.per_dim();
        self
    }

    /// With this padding: a number, one per dim, or [`Padding::Same`] / [`Padding::Valid`].
    pub fn padding(mut self, padding: impl Into<Padding<D>>) -> Self {
        self.padding = padding.into();
        self
    }

    /// With this dilation (one number or one per dim).
    pub fn dilation(mut self, dilation: impl SpatialSize<D>) -> Self {
        self.dilation = dilation.per_dim();
        self
    }

    /// With this many groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
}

/// The options of [`conv1d`].
pub type Conv1dOptions = ConvOptions<1>;
/// The options of [`conv2d`].
pub type Conv2dOptions = ConvOptions<2>;

/// A 1-D convolution (`torch.nn.functional.conv1d`): input `[N, C_in, L]` or unbatched `[C_in, L]`, weight
/// `[C_out, C_in/groups, k]`, optional bias `[C_out]`; output `[N, C_out, L_out]` (or `[C_out, L_out]`).
///
/// ```
/// use torchlet::nn::functional::{conv1d, Conv1dOptions};
/// use torchlet::Tensor;
/// let x = Tensor::new([[[1.0, 2.0, 3.0, 4.0]]]);
/// let w = Tensor::new([[[1.0, -1.0]]]);
/// let y = conv1d(&x, &w, Some(&Tensor::new([0.5])), &Conv1dOptions::default())?;
/// assert_eq!(y.to_vec()?, vec![-0.5, -0.5, -0.5]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn conv1d<T: Element>(
    input: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    options: &Conv1dOptions,
) -> Result<Tensor<T>> {
    convolution("conv1d", input, weight, bias, options)
}

/// A 2-D convolution (`torch.nn.functional.conv2d`): input `[N, C_in, H, W]` or unbatched `[C_in, H, W]`,
/// weight `[C_out, C_in/groups, kH, kW]`, optional bias `[C_out]`; each output size is
/// `⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1`.
///
/// ```
/// use torchlet::nn::functional::{conv2d, Conv2dOptions, Padding};
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::ones(&[1, 1, 4, 4]);
/// let w = Tensor::ones(&[1, 1, 3, 3]);
/// let y = conv2d(&x, &w, None, &Conv2dOptions::default().padding(Padding::Same))?;
/// assert_eq!(y.shape(), &[1, 1, 4, 4]);
/// assert_eq!(y.to_vec()?[..4], [4.0, 6.0, 6.0, 4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn conv2d<T: Element>(
    input: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    options: &Conv2dOptions,
) -> Result<Tensor<T>> {
    convolution("conv2d", input, weight, bias, options)
}

/// `[a, b]` as torch writes sizes in its messages: `(2 x 3)`.
fn sizes(v: &[usize]) -> String {
    format!("({})", v.iter().map(usize::to_string).collect::<Vec<_>>().join(" x "))
}

/// Checks the options, weight and bias against the input, and returns `(left, right)` padding per dim.
fn check<T: Element, const D: usize>(
    op: &'static str,
    input: &[usize],
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    options: &ConvOptions<D>,
) -> Result<[(usize, usize); D]> {
    let (_, [_, channels], spatial) = split_input(op, input, D)?;
    let w = weight.shape();
    if w.len() != D + 2 {
        return Err(Error::shape(
            op,
            format!("expected a {}-D weight [out, in/groups, k...], but got weight of size {w:?}", D + 2),
        ));
    }
    if options.groups == 0 {
        return Err(Error::invalid(op, "non-positive groups is not supported"));
    }
    if options.stride.contains(&0) {
        return Err(Error::invalid(
            op,
            format!("non-positive stride is not supported, got stride {:?}", options.stride),
        ));
    }
    check_positive(op, "dilation", &options.dilation)?;
    let groups = options.groups;
    if !w[0].is_multiple_of(groups) {
        return Err(Error::shape(
            op,
            format!("Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {w:?} instead"),
        ));
    }
    if channels != w[1] * groups {
        return Err(Error::shape(
            op,
            format!(
                "Given groups={groups}, weight of size {w:?}, expected input{input:?} to have {} channels, but got {channels} channels instead",
                w[1] * groups
            ),
        ));
    }
    if let Some(b) = bias.filter(|b| b.shape() != [w[0]]) {
        return Err(Error::shape(
            op,
            format!(
                "Given weight of size {w:?}, expected bias to be 1-dimensional with {} elements, but got bias of size {:?} instead",
                w[0],
                b.shape()
            ),
        ));
    }
    let kernel = &w[2..];
    let pads: [(usize, usize); D] = std::array::from_fn(|i| match options.padding {
        Padding::Explicit(p) => (p[i], p[i]),
        Padding::Valid => (0, 0),
        // torch pads d·(k−1) in all, half on the left, the odd one on the right.
        Padding::Same => {
            let total = options.dilation[i] * kernel[i].saturating_sub(1);
            (total / 2, total - total / 2)
        }
    });
    if options.padding == Padding::Same && options.stride.iter().any(|&s| s != 1) {
        return Err(Error::invalid(op, "padding='same' is not supported for strided convolutions"));
    }
    let padded: Vec<usize> = spatial.iter().zip(&pads).map(|(s, (l, r))| s + l + r).collect();
    let spans: Vec<usize> = kernel.iter().zip(&options.dilation).map(|(k, d)| d * k.saturating_sub(1) + 1).collect();
    if kernel.contains(&0) || padded.iter().zip(&spans).any(|(p, s)| p < s) {
        return Err(Error::shape(
            op,
            format!(
                "Calculated padded input size per channel: {}. Kernel size: {}. Kernel size can't be greater than actual input size",
                sizes(&padded),
                sizes(&spans)
            ),
        ));
    }
    Ok(pads)
}

/// The convolution of [`conv1d`] and [`conv2d`]: a 1-D one runs as a 2-D one with a height of 1.
pub(crate) fn convolution<T: Element, const D: usize>(
    op: &'static str,
    input: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    options: &ConvOptions<D>,
) -> Result<Tensor<T>> {
    let pads = check(op, input.shape(), weight, bias, options)?;
    let (batched, [n, c], spatial) = split_input(op, input.shape(), D)?;
    let w = weight.shape();
    // Leading entries that make a 1-D convolution a 2-D one of height 1.
    let lift = |v: &[usize], one: usize| -> Vec<usize> {
        let mut out = vec![one; 2 - D];
        out.extend_from_slice(v);
        out
    };
    let (size, kernel) = (lift(spatial, 1), lift(&w[2..], 1));
    let (stride, dilation) = (lift(&options.stride, 1), lift(&options.dilation, 1));
    let mut pads2 = vec![(0, 0); 2 - D];
    pads2.extend_from_slice(&pads);
    let axes: Vec<Axis> = (0..2)
        .map(|i| Axis {
            size: size[i],
            kernel: kernel[i],
            stride: stride[i],
            dilation: dilation[i],
            pad_left: pads2[i].0,
            out: out_size(size[i], kernel[i], stride[i], dilation[i], pads2[i], false).unwrap_or(0),
        })
        .collect();
    let (groups, out_channels) = (options.groups, w[0]);
    let (cg, og) = (c / groups, out_channels / groups);
    let windows = Windows { batch: n, channels: cg, axes: [axes[0], axes[1]] };
    let mut out_shape = vec![n, out_channels];
    out_shape.extend(axes.iter().skip(2 - D).map(|a| a.out));
    crate::shape::checked_numel(op, &out_shape)?;
    crate::shape::checked_numel(op, &[n, windows.positions(), cg, windows.taps()])?;

    // [N, C, H, W] as views: an unbatched input gains N = 1, a 1-D one H = 1.
    let mut x = if batched { input.clone() } else { input.unsqueeze(0)? };
    if D == 1 {
        x = x.unsqueeze(2)?;
    }
    // The weight as [O, kh, kw, C_g], the columns' order (a small copy): [O, C_g, k] of a 1-D one gains kh = 1.
    let weight = if D == 1 { weight.unsqueeze(2)? } else { weight.clone() };
    let weight = weight.transpose(1, 2)?.transpose(2, 3)?.reshape(&[out_channels, windows.taps() * cg])?;
    // Per group: the columns [N·L, kh·kw·C_g] and one GEMM with the bias, [N·L, O_g].
    let mut per_group = Vec::with_capacity(groups);
    for g in 0..groups {
        let part = |t: &Tensor<T>, size: usize| if groups == 1 { Ok(t.clone()) } else { t.narrow(0, g * size, size) };
        let xg = if groups == 1 { x.clone() } else { x.narrow(1, g * cg, cg)? };
        let columns = im2col(&xg, &windows, T::zero())?;
        let bg = bias.map(|b| part(b, og)).transpose()?;
        per_group.push(columns.linear(&part(&weight, og)?, bg.as_ref())?);
    }
    let out = if groups == 1 { per_group.pop().expect("one group") } else { super::cat(&per_group, 1)? };
    // [N·L, C_out] → [N, C_out, *spatial]: one copy into torch's layout.
    let out = out.reshape(&[n, windows.positions(), out_channels])?.transpose(1, 2)?.reshape(&out_shape)?;
    if batched {
        Ok(out)
    } else {
        out.squeeze_dim(0)
    }
}
