//! `nn.LayerNorm` and `F.layer_norm`: each sample normalised over its last dims, with an elementwise
//! weight and bias of those dims' shape. A composition of existing ops; autograd gives the backward.

use super::Module;
use crate::autograd::no_grad;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Layer normalisation (`F.layer_norm(input, normalized_shape, weight, bias, eps)`): over the last
/// `normalized_shape.len()` dims of `input`, which must equal `normalized_shape`,
/// `y = (x − mean)/√(var + eps)·weight + bias` with the biased variance; `weight` and `bias` have the shape
/// `normalized_shape`.
///
/// ```
/// use torchlet::nn::functional::layer_norm;
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::new([[1.0, 3.0], [10.0, 30.0]]);
/// assert_eq!(layer_norm(&x, &[2], None, None, 0.0)?.to_vec2()?, vec![vec![-1.0, 1.0], vec![-1.0, 1.0]]);
/// let err = layer_norm(&x, &[3], None, None, 1e-5).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "layer_norm: Given normalized_shape=[3], expected input with shape [*, 3], but got input of size[2, 2]"
/// );
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn layer_norm<T: Element>(
    input: &Tensor<T>,
    normalized_shape: &[usize],
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    eps: f64,
) -> Result<Tensor<T>> {
    const OP: &str = "layer_norm";
    check_normalized_shape(OP, normalized_shape)?;
    let shape = input.shape();
    let k = normalized_shape.len();
    if shape.len() < k || shape[shape.len() - k..] != *normalized_shape {
        let dims: String = normalized_shape.iter().map(|d| format!(", {d}")).collect();
        return Err(Error::shape(
            OP,
            format!(
                "Given normalized_shape={normalized_shape:?}, expected input with shape [*{dims}], but got input of size{shape:?}"
            ),
        ));
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t.filter(|t| t.shape() != normalized_shape) {
            return Err(Error::shape(
                OP,
                format!(
                    "Expected {name} to be of same shape as normalized_shape, but got {name} of shape {:?} and normalized_shape = {normalized_shape:?}",
                    t.shape()
                ),
            ));
        }
    }
    let rows: usize = shape[..shape.len() - k].iter().product();
    let row_len: usize = normalized_shape.iter().product();
    let y = normalize_rows(&input.reshape(&[rows, row_len])?, eps)?.reshape(shape)?;
    let y = match weight {
        Some(w) => y.mul(w)?,
        None => y,
    };
    match bias {
        Some(b) => y.add(b),
        None => Ok(y),
    }
}

/// Each row of `x` `[rows, len]` minus its mean, over the square root of its biased variance plus `eps`;
/// two passes (the mean, then the squares about it), so no cancellation. GroupNorm shares it.
pub(super) fn normalize_rows<T: Element>(x: &Tensor<T>, eps: f64) -> Result<Tensor<T>> {
    let centered = x.sub(&x.mean_dim(1, true)?)?;
    let var = centered.square()?.mean_dim(1, true)?;
    let invstd = var.add_scalar(T::from_f64_lossy(eps))?.sqrt()?.rdiv_scalar(T::one())?;
    centered.mul(&invstd)
}

fn check_normalized_shape(op: &'static str, normalized_shape: &[usize]) -> Result<()> {
    if normalized_shape.is_empty() {
        return Err(Error::invalid(
            op,
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []",
        ));
    }
    Ok(())
}

/// The options of [`LayerNorm`], with torch's defaults (`eps=1e-5, elementwise_affine=True, bias=True`).
///
/// ```
/// use torchlet::nn::{LayerNorm, LayerNormOptions, Module};
/// let ln = LayerNorm::<f32>::with_options(&[4], LayerNormOptions::default().bias(false))?;
/// assert_eq!(ln.named_parameters().len(), 1);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerNormOptions {
    /// Added to the variance before its square root.
    pub eps: f64,
    /// Whether the layer has a learnable `weight` (ones) and, with `bias`, a `bias` (zeros).
    pub elementwise_affine: bool,
    /// Whether the layer has a learnable `bias` (only with `elementwise_affine`).
    pub bias: bool,
}

impl Default for LayerNormOptions {
    fn default() -> Self {
        LayerNormOptions { eps: 1e-5, elementwise_affine: true, bias: true }
    }
}

impl LayerNormOptions {
    /// With `eps`.
    pub fn eps(self, eps: f64) -> Self {
        LayerNormOptions { eps, ..self }
    }

    /// With or without the learnable weight (and bias).
    pub fn elementwise_affine(self, elementwise_affine: bool) -> Self {
        LayerNormOptions { elementwise_affine, ..self }
    }

    /// With or without the learnable bias.
    pub fn bias(self, bias: bool) -> Self {
        LayerNormOptions { bias, ..self }
    }
}

/// Layer normalisation over the last dims (`nn.LayerNorm(normalized_shape)`): see
/// [`layer_norm`](super::functional::layer_norm). Parameters `weight` (ones) and `bias` (zeros) of shape
/// `normalized_shape`.
///
/// ```
/// use torchlet::nn::{LayerNorm, Module};
/// use torchlet::Tensor;
/// let ln = LayerNorm::<f64>::new(&[3])?;
/// let y = ln.forward(&Tensor::new([[1.0, 2.0, 3.0]]))?;
/// assert!((y.to_vec()?[2] - 1.2247).abs() < 1e-3);
/// assert!(LayerNorm::<f64>::new(&[]).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct LayerNorm<T: Element> {
    normalized_shape: Vec<usize>,
    weight: Option<Tensor<T>>,
    bias: Option<Tensor<T>>,
    eps: f64,
}

impl<T: Element> LayerNorm<T> {
    /// The layer over the last dims of shape `normalized_shape`, with torch's defaults; an empty shape is
    /// an error, as torch's.
    pub fn new(normalized_shape: &[usize]) -> Result<Self> {
        Self::with_options(normalized_shape, LayerNormOptions::default())
    }

    /// The layer with the given options.
    pub fn with_options(normalized_shape: &[usize], options: LayerNormOptions) -> Result<Self> {
        check_normalized_shape("LayerNorm", normalized_shape)?;
        let leaf = |t: Tensor<T>| t.requires_grad_(true).expect("a fresh tensor is a leaf");
        let affine = options.elementwise_affine;
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            weight: affine.then(|| leaf(Tensor::ones(normalized_shape))),
            bias: (affine && options.bias).then(|| leaf(Tensor::zeros(normalized_shape))),
            eps: options.eps,
        })
    }

    /// The shape of the dims normalised over (`ln.normalized_shape`).
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// The learnable scale (`ln.weight`), `None` without `elementwise_affine`.
    pub fn weight(&self) -> Option<&Tensor<T>> {
        self.weight.as_ref()
    }

    /// The learnable shift (`ln.bias`), `None` without it.
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// The value added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// A copy of the layer with its parameters on `device` (`ln.to(device)`), fresh leaves that require
    /// grad.
    ///
    /// ```
    /// let ln = torchlet::nn::LayerNorm::<f32>::new(&[3])?.to(torchlet::Device::Cpu)?;
    /// assert!(ln.weight().unwrap().requires_grad());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: Device) -> Result<Self> {
        let param = |t: &Option<Tensor<T>>| {
            t.as_ref().map(|t| no_grad(|| t.to(device)?.deep_clone())?.requires_grad_(true)).transpose()
        };
        Ok(LayerNorm {
            normalized_shape: self.normalized_shape.clone(),
            weight: param(&self.weight)?,
            bias: param(&self.bias)?,
            eps: self.eps,
        })
    }
}

impl<T: Element> Module<T> for LayerNorm<T> {
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        layer_norm(input, &self.normalized_shape, self.weight.as_ref(), self.bias.as_ref(), self.eps)
    }

    /// `weight`, then `bias`, those the layer has.
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let named = [("weight", &self.weight), ("bias", &self.bias)];
        named.into_iter().filter_map(|(n, t)| t.as_ref().map(|t| (n.to_string(), t.clone()))).collect()
    }
}

impl<T: Element> std::fmt::Debug for LayerNorm<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LayerNorm({:?}, eps={:e}, elementwise_affine={})",
            self.normalized_shape,
            self.eps,
            self.weight.is_some()
        )
    }
}
