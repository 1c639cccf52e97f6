//! The convolution and the max pooling of [`super::ManualCnn`], forward and backward, written out with plain
//! tensor ops (slices, `cat`, `matmul`, `max_dim`, `one_hot`) and no autograd graph:
//! - a stride-1 convolution is im2col — each of the k·k taps of the kernel is the zero-padded input shifted by
//!   that tap, and the taps side by side give one row of `C·k·k` columns per output position — followed by one
//!   GEMM with the weight read as `[O, C·k·k]`. Its backward is two GEMMs (the weight's gradient from the
//!   columns, the columns' gradient from the weight) and col2im, which adds every tap's gradient back at the
//!   place its slice came from;
//! - a 2×2 max pooling (stride 2) keeps, per window, which of its four entries was the maximum (the first one
//!   in row-major order, as torch's scan), and its backward sends each gradient to that entry alone.

use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;
use torchlet::{cat, stack};

/// `x` `[N, C, H, W]` with `top`/`bottom` rows and `left`/`right` columns of zeros around each plane.
fn pad<T: Element>(x: &Tensor<T>, top: usize, bottom: usize, left: usize, right: usize) -> Result<Tensor<T>> {
    let zeros = |dim: usize, len: usize, like: &Tensor<T>| {
        let mut shape = like.shape().to_vec();
        shape[dim] = len;
        Tensor::full_on(&shape, T::zero(), like.device())
    };
    let along = |t: Tensor<T>, dim: usize, before: usize, after: usize| -> Result<Tensor<T>> {
        let mut parts = Vec::with_capacity(3);
        if before > 0 {
            parts.push(zeros(dim, before, &t)?);
        }
        parts.push(t.clone());
        if after > 0 {
            parts.push(zeros(dim, after, &t)?);
        }
        if parts.len() == 1 {
            Ok(t)
        } else {
            cat(&parts, dim as isize)
        }
    };
    along(along(x.clone(), 2, top, bottom)?, 3, left, right)
}

/// The output side of a stride-1 convolution with kernel `k` and padding `p` over a side of `size`.
fn out_side(op: &'static str, size: usize, k: usize, p: usize) -> Result<usize> {
    (size + 2 * p)
        .checked_sub(k)
        .map(|s| s + 1)
        .ok_or_else(|| Error::shape(op, format!("a kernel of {k} does not fit a side of {size} padded by {p}")))
}

/// `[N, C, H, W]` of a 4-D shape.
fn dims4(op: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    shape.try_into().map_err(|_| Error::shape(op, format!("expected [N, C, H, W], got {shape:?}")))
}

/// im2col for a stride-1 convolution with a `k`×`k` kernel and `p` zeros of padding: `[N·Ho·Wo, C·k·k]`,
/// one row per output position (n, i, j) in that order, and in it the columns (c, tap) with the taps in
/// row-major order — the order of a weight `[O, C, k, k]` read as `[O, C·k·k]`.
///
/// ```
/// use torchlet_tutorials::cnn::im2col;
/// let x = torchlet::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2])?;
/// let cols = im2col(&x, 2, 0)?;
/// assert_eq!((cols.shape(), cols.to_vec()?), (&[1, 4][..], vec![1.0, 2.0, 3.0, 4.0]));
/// // With padding 1 the first output position sees three zeros and the 1 in its bottom-right tap.
/// assert_eq!(im2col(&x, 2, 1)?.to_vec()?[..4], [0.0, 0.0, 0.0, 1.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn im2col<T: Element>(x: &Tensor<T>, k: usize, p: usize) -> Result<Tensor<T>> {
    const OP: &str = "im2col";
    let [n, c, h, w] = dims4(OP, x.shape())?;
    let (ho, wo) = (out_side(OP, h, k, p)?, out_side(OP, w, k, p)?);
    let padded = pad(x, p, p, p, p)?;
    let mut taps = Vec::with_capacity(k * k);
    for di in 0..k {
        for dj in 0..k {
            taps.push(padded.narrow(2, di, ho)?.narrow(3, dj, wo)?);
        }
    }
    // [N, C, k·k, Ho, Wo] → [N, C·k·k, Ho·Wo] → [N, Ho·Wo, C·k·k]: positions as rows.
    let cols = stack(&taps, 2)?.reshape(&[n, c * k * k, ho * wo])?.transpose(1, 2)?;
    cols.reshape(&[n * ho * wo, c * k * k])
}

/// col2im, the adjoint of [`im2col`]: from the gradient of the columns `[N·Ho·Wo, C·k·k]`, the gradient of the
/// input of `shape` `[N, C, H, W]`; every input entry gets the sum over the taps that read it.
///
/// ```
/// use torchlet::Tensor;
/// use torchlet_tutorials::cnn::col2im;
/// // A 2×2 input padded by 1 under a 2×2 kernel: 9 positions, and each entry is read by 4 of them.
/// let dx = col2im(&Tensor::<f64>::ones(&[9, 4]), &[1, 1, 2, 2], 2, 1)?;
/// assert_eq!(dx.to_vec()?, vec![4.0; 4]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn col2im<T: Element>(dcols: &Tensor<T>, shape: &[usize], k: usize, p: usize) -> Result<Tensor<T>> {
    const OP: &str = "col2im";
    let [n, c, h, w] = dims4(OP, shape)?;
    let (ho, wo) = (out_side(OP, h, k, p)?, out_side(OP, w, k, p)?);
    if dcols.shape() != [n * ho * wo, c * k * k] {
        return Err(Error::shape(OP, format!("columns {:?} do not fit an input {shape:?}", dcols.shape())));
    }
    let per_tap = dcols.reshape(&[n, ho * wo, c * k * k])?.transpose(1, 2)?.reshape(&[n, c, k * k, ho, wo])?;
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    let mut padded = Tensor::full_on(&[n, c, hp, wp], T::zero(), dcols.device())?;
    for di in 0..k {
        for dj in 0..k {
            let tap = per_tap.narrow(2, di * k + dj, 1)?.squeeze_dim(2)?;
            // Back where im2col's slice of the padded input came from: rows di.., columns dj...
            padded = padded.add(&pad(&tap, di, hp - ho - di, dj, wp - wo - dj)?)?;
        }
    }
    padded.narrow(2, p, h)?.narrow(3, p, w)
}

/// The forward pass of a stride-1 convolution with padding `p`: `(output [N, O, Ho, Wo], columns)`, the
/// output as `columns · W2ᵀ + b` for `W2` the weight `[O, C, k, k]` read as `[O, C·k·k]`; the columns are
/// kept for the backward pass.
///
/// ```
/// use torchlet::Tensor;
/// use torchlet_tutorials::cnn::conv2d_forward;
/// let x = Tensor::<f64>::ones(&[1, 1, 3, 3]);
/// let (y, _) = conv2d_forward(&x, &Tensor::ones(&[2, 1, 3, 3]), &Tensor::new([0.0, 1.0]), 1)?;
/// assert_eq!(y.shape(), &[1, 2, 3, 3]);
/// assert_eq!(y.to_vec()?[..5], [4.0, 6.0, 4.0, 6.0, 9.0]); // the taps inside the image
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn conv2d_forward<T: Element>(
    x: &Tensor<T>,
    weight: &Tensor<T>,
    bias: &Tensor<T>,
    p: usize,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let [n, _, h, w] = dims4("conv2d_forward", x.shape())?;
    let [o, c, k, _] = dims4("conv2d_forward", weight.shape())?;
    let (ho, wo) = (out_side("conv2d_forward", h, k, p)?, out_side("conv2d_forward", w, k, p)?);
    let cols = im2col(x, k, p)?;
    let rows = cols.matmul(&weight.reshape(&[o, c * k * k])?.t()?)?.add(bias)?;
    // [N·Ho·Wo, O] → [N, Ho·Wo, O] → [N, O, Ho·Wo] → [N, O, Ho, Wo].
    let out = rows.reshape(&[n, ho * wo, o])?.transpose(1, 2)?.reshape(&[n, o, ho, wo])?;
    Ok((out, cols))
}

/// The gradients a convolution's backward pass gives.
#[derive(Debug, Clone)]
pub struct ConvGrads<T: Element> {
    /// `∂L/∂W`, `[O, C, k, k]`.
    pub weight: Tensor<T>,
    /// `∂L/∂b`, `[O]`.
    pub bias: Tensor<T>,
    /// `∂L/∂x`, `[N, C, H, W]`, when asked for.
    pub input: Option<Tensor<T>>,
}

/// The backward pass of [`conv2d_forward`] from `dy = ∂L/∂output` `[N, O, Ho, Wo]`, the columns it kept and
/// the weight it used: `∂L/∂W = dYᵀ · columns`, `∂L/∂b = Σ_rows dY`, `∂L/∂x = col2im(dY · W2)`, with `dY` the
/// gradient as rows `[N·Ho·Wo, O]`. The input's gradient is computed only for `input_shape` given (the first
/// layer's input needs none).
pub fn conv2d_backward<T: Element>(
    dy: &Tensor<T>,
    cols: &Tensor<T>,
    weight: &Tensor<T>,
    p: usize,
    input_shape: Option<&[usize]>,
) -> Result<ConvGrads<T>> {
    let [n, o, ho, wo] = dims4("conv2d_backward", dy.shape())?;
    let w2 = weight.reshape(&[o, weight.numel() / o.max(1)])?;
    let rows = dy.reshape(&[n, o, ho * wo])?.transpose(1, 2)?.reshape(&[n * ho * wo, o])?;
    let weight_grad = rows.t()?.matmul(cols)?.reshape(weight.shape())?;
    let bias_grad = rows.sum_dim(0, false)?;
    let input_grad = match input_shape {
        Some(shape) => Some(col2im(&rows.matmul(&w2)?, shape, weight.shape()[2], p)?),
        None => None,
    };
    Ok(ConvGrads { weight: weight_grad, bias: bias_grad, input: input_grad })
}

/// `MaxPool2d(2, 2)` of `x` `[N, C, H, W]` (even H and W): `(output [N, C, H/2, W/2], choice)`, where `choice`
/// `[N, C, H/2, W/2, 4]` is one-hot on the entry each window kept, its four entries in row-major order and
/// the first maximum kept.
///
/// ```
/// use torchlet_tutorials::cnn::{max_pool2x2, max_pool2x2_backward};
/// use torchlet::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 5.0, 5.0, 2.0], &[1, 1, 2, 2])?;
/// let (y, choice) = max_pool2x2(&x)?;
/// assert_eq!((y.to_vec()?, choice.to_vec()?), (vec![5.0], vec![0.0, 1.0, 0.0, 0.0]));
/// let dx = max_pool2x2_backward(&Tensor::from_vec(vec![3.0], &[1, 1, 1, 1])?, &choice)?;
/// assert_eq!(dx.to_vec()?, vec![0.0, 3.0, 0.0, 0.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn max_pool2x2<T: Element>(x: &Tensor<T>) -> Result<(Tensor<T>, Tensor<T>)> {
    let [n, c, h, w] = dims4("max_pool2x2", x.shape())?;
    if h % 2 != 0 || w % 2 != 0 {
        return Err(Error::shape("max_pool2x2", format!("expected an even height and width, got {:?}", x.shape())));
    }
    // [N, C, H/2, 2, W/2, 2] → [N, C, H/2, W/2, 2, 2] → one window of four per row of the last dim.
    let windows = x.reshape(&[n, c, h / 2, 2, w / 2, 2])?.transpose(3, 4)?.reshape(&[n, c, h / 2, w / 2, 4])?;
    let (out, index) = windows.max_dim(4, false)?;
    Ok((out, index.one_hot(4)?))
}

/// The backward pass of [`max_pool2x2`]: each entry of `dy` `[N, C, H/2, W/2]` goes to the entry its window
/// kept (`choice`), the other three get 0; the result is `[N, C, H, W]`.
pub fn max_pool2x2_backward<T: Element>(dy: &Tensor<T>, choice: &Tensor<T>) -> Result<Tensor<T>> {
    let [n, c, h2, w2] = dims4("max_pool2x2_backward", dy.shape())?;
    let routed = choice.mul(&dy.unsqueeze(4)?)?;
    routed.reshape(&[n, c, h2, w2, 2, 2])?.transpose(3, 4)?.reshape(&[n, c, 2 * h2, 2 * w2])
}
