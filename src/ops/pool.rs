//! Poolings (`torch.nn.functional.max_pool1d/2d`, `avg_pool1d/2d`, `adaptive_avg_pool2d`), with torch's
//! window geometry, built from device-generic gathers so that their backward comes with them:
//! - max pooling picks, per window, the input entry torch's scan keeps (the first maximum in row-major
//!   order, a NaN over any number, the latest NaN over an earlier one), then gathers those entries: the
//!   gradient of a gather goes back to exactly the entries it picked;
//! - average pooling gathers every window (padding reads a zero), sums it, and divides by torch's divisor.

use super::conv::SpatialSize;
use super::window::{check_positive, im2col, out_size, split_input, Axis, Windows};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The options of a `D`-dimensional max pooling (torch's defaults: stride = kernel, padding 0, dilation 1,
/// no ceil_mode).
///
/// ```
/// use torchlet::nn::functional::MaxPool2dOptions;
/// let opts = MaxPool2dOptions::new(3).stride(2).padding([1, 0]).ceil_mode(true);
/// assert_eq!((opts.kernel_size, opts.stride, opts.padding), ([3, 3], Some([2, 2]), [1, 0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPoolOptions<const D: usize> {
    /// The window's size along each dim.
    pub kernel_size: [usize; D],
    /// The step between windows; `None` means the kernel size.
    pub stride: Option<[usize; D]>,
    /// Implicit −∞ on both sides of each dim; at most half the kernel.
    pub padding: [usize; D],
    /// The spacing between a window's taps.
    pub dilation: [usize; D],
    /// Output sizes rounded up rather than down (a last window must start inside the input or left padding).
    pub ceil_mode: bool,
}

impl<const D: usize> MaxPoolOptions<D> {
    /// A window of `kernel_size` (one number or one per dim) with torch's defaults for the rest.
    pub fn new(kernel_size: impl SpatialSize<D>) -> Self {
        MaxPoolOptions {
            kernel_size: kernel_size.per_dim(),
            stride: None,
            padding: [0; D],
            dilation: [1; D],
            ceil_mode: false,
        }
    }

    /// With this dilation.
    pub fn dilation(mut self, dilation: impl SpatialSize<D>) -> Self {
        self.dilation = dilation.per_dim();
        self
    }
}

/// The options of a `D`-dimensional average pooling (torch's defaults: stride = kernel, padding 0, no
/// ceil_mode, count_include_pad true, no divisor_override).
///
/// ```
/// use torchlet::nn::functional::AvgPool2dOptions;
/// let opts = AvgPool2dOptions::new([2, 3]).count_include_pad(false).divisor_override(4);
/// assert_eq!((opts.kernel_size, opts.count_include_pad, opts.divisor_override), ([2, 3], false, Some(4)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPoolOptions<const D: usize> {
    /// The window's size along each dim.
    pub kernel_size: [usize; D],
    /// The step between windows; `None` means the kernel size.
    pub stride: Option<[usize; D]>,
    /// Implicit zeros on both sides of each dim; at most half the kernel.
    pub padding: [usize; D],
    /// Output sizes rounded up rather than down.
    pub ceil_mode: bool,
    /// Whether the padding counts in a window's divisor (it never does past the padded input's end).
    pub count_include_pad: bool,
    /// A divisor for every window in place of its size.
    pub divisor_override: Option<usize>,
}

impl<const D: usize> AvgPoolOptions<D> {
    /// A window of `kernel_size` (one number or one per dim) with torch's defaults for the rest.
    pub fn new(kernel_size: impl SpatialSize<D>) -> Self {
        AvgPoolOptions {
            kernel_size: kernel_size.per_dim(),
            stride: None,
            padding: [0; D],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    /// With `count_include_pad` on or off.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }

    /// Dividing every window's sum by `divisor`.
    pub fn divisor_override(mut self, divisor: usize) -> Self {
        self.divisor_override = Some(divisor);
        self
    }
}

/// The window builders that both poolings' options have, with the same meaning in each.
macro_rules! window_builders {
    ($options:ident) => {
        impl<const D: usize> $options<D> {
            /// With this stride.
            pub fn stride(mut self, stride: impl SpatialSize<D>) -> Self {
                self.stride = Some(stride.per_dim());
                self
            }

            /// With this padding.
            pub fn padding(mut self, padding: impl SpatialSize<D>) -> Self {
                self.padding = padding.per_dim();
                self
            }

            /// With `ceil_mode` on or off.
            pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
                self.ceil_mode = ceil_mode;
                self
            }
        }
    };
}

window_builders!(MaxPoolOptions);
window_builders!(AvgPoolOptions);

/// The options of [`max_pool1d`].
pub type MaxPool1dOptions = MaxPoolOptions<1>;
/// The options of [`max_pool2d`].
pub type MaxPool2dOptions = MaxPoolOptions<2>;
/// The options of [`avg_pool1d`].
pub type AvgPool1dOptions = AvgPoolOptions<1>;
/// The options of [`avg_pool2d`].
pub type AvgPool2dOptions = AvgPoolOptions<2>;

/// Where a pooling's windows lie: the input split into planes and the two axes (a 1-D pooling has height 1).
struct Geometry {
    /// `N · C`, one plane per batch element and channel.
    planes: usize,
    axes: [Axis; 2],
    out_shape: Vec<usize>,
}

impl Geometry {
    fn plane(&self) -> usize {
        self.axes[0].size * self.axes[1].size
    }

    fn windows(&self) -> usize {
        self.axes[0].out * self.axes[1].out
    }
}

/// Checks a pooling's arguments as torch's pool2d_shape_check does and lays out its windows.
fn geometry<const D: usize>(
    op: &'static str,
    shape: &[usize],
    kernel: [usize; D],
    stride: Option<[usize; D]>,
    padding: [usize; D],
    dilation: [usize; D],
    ceil_mode: bool,
) -> Result<Geometry> {
    let (batched, [n, c], spatial) = split_input(op, shape, D)?;
    check_positive(op, "kernel size", &kernel)?;
    let stride = stride.unwrap_or(kernel);
    check_positive(op, "stride", &stride)?;
    check_positive(op, "dilation", &dilation)?;
    if kernel.iter().zip(&padding).any(|(k, p)| *p > k / 2) {
        return Err(Error::invalid(
            op,
            format!(
                "pad should be at most half of kernel size, but got padding {padding:?} and kernel_size {kernel:?}"
            ),
        ));
    }
    let outs: Vec<Option<usize>> = (0..D)
        .map(|i| out_size(spatial[i], kernel[i], stride[i], dilation[i], (padding[i], padding[i]), ceil_mode))
        .collect();
    if outs.iter().any(|o| o.is_none_or(|o| o == 0)) || c == 0 {
        let given: Vec<String> = std::iter::once(c).chain(spatial.iter().copied()).map(|v| v.to_string()).collect();
        let calculated: Vec<String> = std::iter::once(c.to_string())
            .chain((0..D).map(|i| {
                let room = (spatial[i] + 2 * padding[i]) as i64 - (dilation[i] * (kernel[i] - 1) + 1) as i64;
                (room.div_euclid(stride[i] as i64) + 1).to_string()
            }))
            .collect();
        return Err(Error::shape(
            op,
            format!(
                "Given input size: ({}). Calculated output size: ({}). Output size is too small",
                given.join("x"),
                calculated.join("x")
            ),
        ));
    }
    let lift = |v: &[usize], one: usize| -> Vec<usize> { [vec![one; 2 - D], v.to_vec()].concat() };
    let outs: Vec<usize> = outs.into_iter().flatten().collect();
    let (size, kernel, stride, dilation) = (lift(spatial, 1), lift(&kernel, 1), lift(&stride, 1), lift(&dilation, 1));
    let (padding, outs2) = (lift(&padding, 0), lift(&outs, 1));
    let axes = std::array::from_fn(|i| Axis {
        size: size[i],
        kernel: kernel[i],
        stride: stride[i],
        dilation: dilation[i],
        pad_left: padding[i],
        out: outs2[i],
    });
    let mut out_shape = if batched { vec![n, c] } else { vec![c] };
    out_shape.extend_from_slice(&outs);
    crate::shape::checked_numel(op, &out_shape)?;
    Ok(Geometry { planes: n * c, axes, out_shape })
}

/// For each window of a max pooling, in `[planes, windows]` order, the entry of its plane torch's scan keeps:
/// from the first entry inside the input at −∞, a greater value or a NaN takes over (the first maximum in
/// row-major order, the latest NaN). A window wholly in the padding (possible with dilation) keeps `plane`,
/// a slot past the input.
fn max_pool_choices<T: Element>(values: &[T], g: &Geometry) -> Vec<usize> {
    let [h, w] = g.axes;
    let plane = g.plane();
    let w_taps: Vec<_> = (0..w.out).map(|ow| w.taps_inside(ow)).collect();
    let h_taps: Vec<_> = (0..h.out).map(|oh| h.taps_inside(oh)).collect();
    let mut chosen = Vec::with_capacity(g.planes * g.windows());
    for values in values.chunks_exact(plane.max(1)).take(g.planes) {
        for &(kh_lo, kh_hi, ih0) in &h_taps {
            for &(kw_lo, kw_hi, iw0) in &w_taps {
                if kh_lo == kh_hi || kw_lo == kw_hi {
                    chosen.push(plane);
                    continue;
                }
                let (mut best, mut max) = (ih0 * w.size + iw0, T::neg_infinity());
                for i in 0..kh_hi - kh_lo {
                    let row = (ih0 + i * h.dilation) * w.size + iw0;
                    for j in 0..kw_hi - kw_lo {
                        let at = row + j * w.dilation;
                        let v = values[at];
                        if v > max || v.is_nan() {
                            (best, max) = (at, v);
                        }
                    }
                }
                chosen.push(best);
            }
        }
    }
    chosen
}

/// The max pooling of [`max_pool1d`] and [`max_pool2d`], and of the modules: the output, and each window's
/// choice within its plane.
pub(crate) fn max_pool_values<T: Element, const D: usize>(
    op: &'static str,
    input: &Tensor<T>,
    o: &MaxPoolOptions<D>,
) -> Result<(Tensor<T>, Vec<usize>, Vec<usize>)> {
    let g = geometry(op, input.shape(), o.kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode)?;
    let plane = g.plane();
    let within = max_pool_choices(&input.to_vec()?, &g);
    let picked: Vec<usize> = within
        .iter()
        .enumerate()
        .map(|(k, &i)| if i == plane { g.planes * plane } else { k / g.windows() * plane + i })
        .collect();
    let flat = input.reshape(&[g.planes * plane])?;
    let flat = if within.contains(&plane) {
        super::cat(&[flat, Tensor::full_on(&[1], T::neg_infinity(), input.device())?], 0)?
    } else {
        flat
    };
    let out = flat.index_select(0, &picked)?.reshape(&g.out_shape)?;
    Ok((out, within, g.out_shape))
}

/// The max pooling of [`max_pool1d_with_indices`] and [`max_pool2d_with_indices`].
pub(crate) fn max_pool<T: Element, const D: usize>(
    op: &'static str,
    input: &Tensor<T>,
    o: &MaxPoolOptions<D>,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let (out, within, shape) = max_pool_values(op, input, o)?;
    let indices = within.iter().map(|&i| T::from_usize(i).unwrap_or_else(T::nan)).collect();
    let indices = Tensor::from_vec(indices, &shape)?.to(input.device())?;
    Ok((out, indices))
}

/// The taps of every window of `input` (padding reads 0), gathered by `indices` (`windows` groups of `taps` each,
/// into planes of `plane` entries whose slot `plane` is the padding): `[planes, windows · taps]`.
fn gather_windows<T: Element>(input: &Tensor<T>, planes: usize, plane: usize, indices: &[usize]) -> Result<Tensor<T>> {
    let x = input.reshape(&[planes, plane])?;
    let zeros = Tensor::full_on(&[planes, 1], T::zero(), input.device())?;
    super::cat(&[x, zeros], 1)?.index_select(1, indices)
}

/// The average pooling of [`avg_pool1d`] and [`avg_pool2d`].
pub(crate) fn avg_pool<T: Element, const D: usize>(
    op: &'static str,
    input: &Tensor<T>,
    o: &AvgPoolOptions<D>,
) -> Result<Tensor<T>> {
    if o.divisor_override == Some(0) {
        return Err(Error::invalid(op, "divisor must be not zero"));
    }
    let g = geometry(op, input.shape(), o.kernel_size, o.stride, o.padding, [1; D], o.ceil_mode)?;
    let [h, w] = g.axes;
    // torch's divisor: the window clipped to the padded input, or to the input itself without count_include_pad.
    // In padded coordinates: the window's cells inside the padded input, and those inside the input.
    let extent = |a: &Axis, i: usize| -> (usize, usize) {
        let start = i * a.stride;
        let end = (start + a.kernel).min(a.size + 2 * a.pad_left);
        (end - start, end.min(a.size + a.pad_left).saturating_sub(start.max(a.pad_left)))
    };
    let divisors: Vec<T> = (0..h.out)
        .flat_map(|oh| (0..w.out).map(move |ow| (oh, ow)))
        .map(|(oh, ow)| {
            let ((ph, vh), (pw, vw)) = (extent(&h, oh), extent(&w, ow));
            let d = o.divisor_override.unwrap_or(if o.count_include_pad { ph * pw } else { vh * vw });
            T::from_usize(d).unwrap_or_else(T::nan)
        })
        .collect();
    let sums = pooled_sums(input, &g)?;
    let divisors = Tensor::from_vec(divisors, &[g.windows()])?.to(input.device())?;
    sums.div(&divisors)?.reshape(&g.out_shape)
}

/// Each window's sum, `[planes, windows]`: the windows of every plane as one channel of an image each, im2col'd
/// (padding reads 0) and summed over the taps.
fn pooled_sums<T: Element>(input: &Tensor<T>, g: &Geometry) -> Result<Tensor<T>> {
    let [h, w] = g.axes;
    let planes = input.reshape(&[g.planes, 1, h.size, w.size])?;
    let windows = Windows { batch: g.planes, channels: 1, axes: g.axes };
    im2col(&planes, &windows, T::zero())?.sum_dim(1, false)?.reshape(&[g.planes, g.windows()])
}

/// 1-D max pooling (`torch.nn.functional.max_pool1d`) of `[N, C, L]` or `[C, L]`.
///
/// ```
/// use torchlet::nn::functional::{max_pool1d, MaxPool1dOptions};
/// let x = torchlet::Tensor::new([[1.0, 3.0, 2.0, 5.0, 4.0]]);
/// assert_eq!(max_pool1d(&x, &MaxPool1dOptions::new(2))?.to_vec()?, vec![3.0, 5.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn max_pool1d<T: Element>(input: &Tensor<T>, options: &MaxPool1dOptions) -> Result<Tensor<T>> {
    Ok(max_pool_values("max_pool1d", input, options)?.0)
}

/// [`max_pool1d`] with, beside the output, the index along `L` of each window's maximum
/// (`return_indices=True`; whole numbers in the tensor's element type).
pub fn max_pool1d_with_indices<T: Element>(
    input: &Tensor<T>,
    options: &MaxPool1dOptions,
) -> Result<(Tensor<T>, Tensor<T>)> {
    max_pool("max_pool1d", input, options)
}

/// 2-D max pooling (`torch.nn.functional.max_pool2d`) of `[N, C, H, W]` or `[C, H, W]`. The gradient goes
/// to the entry each window kept (ties: the first in row-major order; a NaN is the maximum).
///
/// ```
/// use torchlet::nn::functional::{max_pool2d, MaxPool2dOptions};
/// let x = torchlet::Tensor::new([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]);
/// let y = max_pool2d(&x, &MaxPool2dOptions::new(2).stride(1))?;
/// assert_eq!(y.to_vec()?, vec![5.0, 6.0, 8.0, 9.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn max_pool2d<T: Element>(input: &Tensor<T>, options: &MaxPool2dOptions) -> Result<Tensor<T>> {
    Ok(max_pool_values("max_pool2d", input, options)?.0)
}

/// [`max_pool2d`] with, beside the output, the flat index `h · W + w` of each window's maximum within its
/// plane (`return_indices=True`; whole numbers in the tensor's element type).
///
/// ```
/// use torchlet::nn::functional::{max_pool2d_with_indices, MaxPool2dOptions};
/// let x = torchlet::Tensor::new([[[1.0, 9.0], [9.0, 2.0]]]);
/// let (y, i) = max_pool2d_with_indices(&x, &MaxPool2dOptions::new(2))?;
/// assert_eq!((y.to_vec()?, i.to_vec()?), (vec![9.0], vec![1.0]));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn max_pool2d_with_indices<T: Element>(
    input: &Tensor<T>,
    options: &MaxPool2dOptions,
) -> Result<(Tensor<T>, Tensor<T>)> {
    max_pool("max_pool2d", input, options)
}

/// 1-D average pooling (`torch.nn.functional.avg_pool1d`) of `[N, C, L]` or `[C, L]`.
///
/// ```
/// use torchlet::nn::functional::{avg_pool1d, AvgPool1dOptions};
/// let x = torchlet::Tensor::new([[1.0, 3.0, 2.0, 6.0]]);
/// assert_eq!(avg_pool1d(&x, &AvgPool1dOptions::new(2))?.to_vec()?, vec![2.0, 4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn avg_pool1d<T: Element>(input: &Tensor<T>, options: &AvgPool1dOptions) -> Result<Tensor<T>> {
    avg_pool("avg_pool1d", input, options)
}

/// 2-D average pooling (`torch.nn.functional.avg_pool2d`) of `[N, C, H, W]` or `[C, H, W]`.
///
/// ```
/// use torchlet::nn::functional::{avg_pool2d, AvgPool2dOptions};
/// let x = torchlet::Tensor::new([[[1.0, 2.0], [3.0, 4.0]]]);
/// assert_eq!(avg_pool2d(&x, &AvgPool2dOptions::new(2))?.to_vec()?, vec![2.5]);
/// let padded = avg_pool2d(&x, &AvgPool2dOptions::new(2).padding(1).count_include_pad(false))?;
/// assert_eq!(padded.to_vec()?, vec![1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn avg_pool2d<T: Element>(input: &Tensor<T>, options: &AvgPool2dOptions) -> Result<Tensor<T>> {
    avg_pool("avg_pool2d", input, options)
}

/// Adaptive 2-D average pooling (`torch.nn.functional.adaptive_avg_pool2d`) of `[N, C, H, W]` or
/// `[C, H, W]` to `[.., oH, oW]`: output `i` averages the input from `⌊i·H/oH⌋` to `⌈(i+1)·H/oH⌉`.
///
/// ```
/// use torchlet::nn::functional::adaptive_avg_pool2d;
/// let x = torchlet::Tensor::new([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]);
/// assert_eq!(adaptive_avg_pool2d(&x, [1, 2])?.to_vec()?, vec![3.0, 4.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn adaptive_avg_pool2d<T: Element>(input: &Tensor<T>, output_size: impl SpatialSize<2>) -> Result<Tensor<T>> {
    const OP: &str = "adaptive_avg_pool2d";
    let out = output_size.per_dim();
    let (batched, [n, c], spatial) = split_input(OP, input.shape(), 2)?;
    if spatial.contains(&0) || c == 0 {
        return Err(Error::shape(
            OP,
            format!(
                "expected input to have non-zero size for non-batch dimensions, but got input of size {:?}",
                input.shape()
            ),
        ));
    }
    // Window `i` of `o` over `size` entries: [⌊i·size/o⌋, ⌈(i+1)·size/o⌉).
    let window = |i: usize, size: usize, o: usize| (i * size / o)..((i + 1) * size).div_ceil(o);
    let widest = |size: usize, o: usize| (0..o).map(|i| window(i, size, o).len()).max().unwrap_or(0);
    let (h, w) = (spatial[0], spatial[1]);
    let (kh, kw) = (widest(h, out[0]), widest(w, out[1]));
    let mut indices = Vec::with_capacity(out[0] * out[1] * kh * kw);
    let mut divisors = Vec::with_capacity(out[0] * out[1]);
    for oh in 0..out[0] {
        for ow in 0..out[1] {
            let (rows, cols) = (window(oh, h, out[0]), window(ow, w, out[1]));
            divisors.push(T::from_usize(rows.len() * cols.len()).unwrap_or_else(T::nan));
            // Narrower windows fill their unused taps with the padding slot, which reads 0.
            for i in 0..kh {
                for j in 0..kw {
                    let at = rows.clone().nth(i).zip(cols.clone().nth(j));
                    indices.push(at.map_or(h * w, |(r, c)| r * w + c));
                }
            }
        }
    }
    let mut out_shape = if batched { vec![n, c] } else { vec![c] };
    out_shape.extend_from_slice(&out);
    crate::shape::checked_numel(OP, &out_shape)?;
    let windows = out[0] * out[1];
    let sums = gather_windows(input, n * c, h * w, &indices)?.reshape(&[n * c, windows, kh * kw])?.sum_dim(2, false)?;
    let divisors = Tensor::from_vec(divisors, &[windows])?.to(input.device())?;
    sums.div(&divisors)?.reshape(&out_shape)
}
