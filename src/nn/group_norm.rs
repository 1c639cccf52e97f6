//! `nn.GroupNorm` and `F.group_norm`: the channels of each sample split into groups, each group normalised
//! over its channels and spatial dims, then a per-channel weight and bias. A composition of existing ops.

use super::layer_norm::normalize_rows;
use super::Module;
use crate::autograd::no_grad;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Group normalisation (`F.group_norm(input, num_groups, weight, bias, eps)`) of `input` `[N, C, *]`: the
/// `C` channels are split into `num_groups` groups of `C/num_groups`, each normalised over its channels and
/// the trailing dims with the biased variance, then scaled by `weight` `[C]` and shifted by `bias` `[C]`.
///
/// ```
/// use torchlet::nn::functional::group_norm;
/// use torchlet::Tensor;
/// let x = Tensor::<f64>::new([[1.0, 3.0, 10.0, 30.0]]);
/// assert_eq!(group_norm(&x, 2, None, None, 0.0)?.to_vec()?, vec![-1.0, 1.0, -1.0, 1.0]);
/// let err = group_norm(&x, 3, None, None, 1e-5).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "group_norm: Expected number of channels in input to be divisible by num_groups, but got input of shape [1, 4] and num_groups=3"
/// );
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn group_norm<T: Element>(
    input: &Tensor<T>,
    num_groups: usize,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    eps: f64,
) -> Result<Tensor<T>> {
    const OP: &str = "group_norm";
    let shape = input.shape();
    if shape.len() < 2 {
        return Err(Error::shape(
            OP,
            format!("Expected at least 2 dimensions for input tensor but received {}", shape.len()),
        ));
    }
    let (n, c) = (shape[0], shape[1]);
    if num_groups == 0 || c % num_groups != 0 {
        return Err(Error::shape(
            OP,
            format!(
                "Expected number of channels in input to be divisible by num_groups, but got input of shape {shape:?} and num_groups={num_groups}"
            ),
        ));
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t.filter(|t| t.rank() != 1 || t.numel() != c) {
            return Err(Error::shape(
                OP,
                format!(
                    "Expected {name} to be a vector of size equal to the number of channels in input, but got {name} of shape {:?} and input of shape {shape:?}",
                    t.shape()
                ),
            ));
        }
    }
    let l: usize = shape[2..].iter().product();
    let y = normalize_rows(&input.reshape(&[n * num_groups, c / num_groups * l])?, eps)?;
    // Back to [N, C, L] so the per-channel weight and bias broadcast as [1, C, 1].
    let mut y = y.reshape(&[n, c, l])?;
    if let Some(w) = weight {
        y = y.mul(&w.reshape(&[1, c, 1])?)?;
    }
    if let Some(b) = bias {
        y = y.add(&b.reshape(&[1, c, 1])?)?;
    }
    y.reshape(shape)
}

/// Group normalisation (`nn.GroupNorm(num_groups, num_channels)`): see
/// [`group_norm`](super::functional::group_norm). Parameters `weight` (ones) and `bias` (zeros) `[C]`
/// with `affine` (the default).
///
/// ```
/// use torchlet::nn::{GroupNorm, Module};
/// use torchlet::Tensor;
/// let gn = GroupNorm::<f32>::new(2, 4)?;
/// assert_eq!(gn.forward(&Tensor::randn(&[3, 4, 5]))?.shape(), &[3, 4, 5]);
/// let err = GroupNorm::<f32>::new(3, 4).unwrap_err();
/// assert_eq!(err.to_string(), "GroupNorm: num_channels must be divisible by num_groups");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct GroupNorm<T: Element> {
    num_groups: usize,
    num_channels: usize,
    eps: f64,
    weight: Option<Tensor<T>>,
    bias: Option<Tensor<T>>,
}

impl<T: Element> GroupNorm<T> {
    /// The layer with torch's defaults (eps 1e-5, affine); `num_channels` must be a multiple of
    /// `num_groups`, as torch's constructor requires.
    pub fn new(num_groups: usize, num_channels: usize) -> Result<Self> {
        Self::with_options(num_groups, num_channels, 1e-5, true)
    }

    /// The layer with the given `eps` and with (`affine`) or without a learnable weight and bias.
    ///
    /// ```
    /// use torchlet::nn::{GroupNorm, Module};
    /// assert!(GroupNorm::<f64>::with_options(1, 6, 1e-3, false)?.named_parameters().is_empty());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn with_options(num_groups: usize, num_channels: usize, eps: f64, affine: bool) -> Result<Self> {
        if num_groups == 0 {
            return Err(Error::invalid("GroupNorm", "num_groups must be positive"));
        }
        if !num_channels.is_multiple_of(num_groups) {
            return Err(Error::invalid("GroupNorm", "num_channels must be divisible by num_groups"));
        }
        let leaf = |t: Tensor<T>| t.requires_grad_(true).expect("a fresh tensor is a leaf");
        Ok(GroupNorm {
            num_groups,
            num_channels,
            eps,
            weight: affine.then(|| leaf(Tensor::ones(&[num_channels]))),
            bias: affine.then(|| leaf(Tensor::zeros(&[num_channels]))),
        })
    }

    /// The number of groups (`gn.num_groups`).
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// The number of channels (`gn.num_channels`).
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// The learnable scale `[C]` (`gn.weight`), `None` without `affine`.
    pub fn weight(&self) -> Option<&Tensor<T>> {
        self.weight.as_ref()
    }

    /// The learnable shift `[C]` (`gn.bias`), `None` without `affine`.
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// A copy of the layer with its parameters on `device` (`gn.to(device)`), fresh leaves that require
    /// grad.
    ///
    /// ```
    /// let gn = torchlet::nn::GroupNorm::<f32>::new(2, 4)?.to(torchlet::Device::Cpu)?;
    /// assert_eq!(gn.weight().unwrap().shape(), &[4]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: Device) -> Result<Self> {
        let param = |t: &Option<Tensor<T>>| {
            t.as_ref().map(|t| no_grad(|| t.to(device)?.deep_clone())?.requires_grad_(true)).transpose()
        };
        Ok(GroupNorm { weight: param(&self.weight)?, bias: param(&self.bias)?, ..*self })
    }
}

impl<T: Element> Module<T> for GroupNorm<T> {
    fn forward(&self, input: &Tensor<T>) -> Result<Tensor<T>> {
        group_norm(input, self.num_groups, self.weight.as_ref(), self.bias.as_ref(), self.eps)
    }

    /// `weight`, `bias` (with `affine`).
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let named = [("weight", &self.weight), ("bias", &self.bias)];
        named.into_iter().filter_map(|(n, t)| t.as_ref().map(|t| (n.to_string(), t.clone()))).collect()
    }
}

impl<T: Element> std::fmt::Debug for GroupNorm<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GroupNorm({}, {}, eps={:e}, affine={})",
            self.num_groups,
            self.num_channels,
            self.eps,
            self.weight.is_some()
        )
    }
}
