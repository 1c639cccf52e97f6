//! `nn.Embedding`: a lookup table of `num_embeddings` rows of `embedding_dim` values, indexed by whole
//! numbers. The lookup is `index_select` on the weight, so its backward is a scatter-add into the rows used.

use super::embedding_renorm::renorm_rows;
use super::Module;
use crate::autograd::no_grad;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::where_;
use crate::tensor::Tensor;
use rand::Rng;

/// The options of [`Embedding`] beyond its size (torch's keyword arguments): no padding row and no
/// `max_norm` by default, `norm_type` 2.
///
/// ```
/// use torchlet::nn::{Embedding, EmbeddingOptions};
/// let emb = Embedding::<f32>::with_options(5, 3, EmbeddingOptions::default().padding_idx(-1).max_norm(1.0))?;
/// assert_eq!((emb.padding_idx(), emb.max_norm(), emb.norm_type()), (Some(4), Some(1.0), 2.0));
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbeddingOptions {
    /// The row that is zero at initialisation and gets no gradient; negative counts from the end, as in
    /// torch.
    pub padding_idx: Option<isize>,
    /// The largest norm a looked-up row may have: each forward first rescales, in place, the rows it looks
    /// up whose norm exceeds it ([`embedding_renorm_`](super::functional::embedding_renorm_)).
    pub max_norm: Option<f64>,
    /// The `p` of the p-norm that `max_norm` bounds (`inf` for the largest magnitude).
    pub norm_type: f64,
}

impl Default for EmbeddingOptions {
    fn default() -> Self {
        EmbeddingOptions { padding_idx: None, max_norm: None, norm_type: 2.0 }
    }
}

impl EmbeddingOptions {
    /// With the padding row `padding_idx`.
    pub fn padding_idx(self, padding_idx: isize) -> Self {
        EmbeddingOptions { padding_idx: Some(padding_idx), ..self }
    }

    /// With rows renormalised to at most `max_norm` when looked up.
    pub fn max_norm(self, max_norm: f64) -> Self {
        EmbeddingOptions { max_norm: Some(max_norm), ..self }
    }

    /// With `max_norm` bounding the `norm_type`-norm.
    pub fn norm_type(self, norm_type: f64) -> Self {
        EmbeddingOptions { norm_type, ..self }
    }
}

/// The padding row alone, as `from_pretrained(w, freeze, padding_idx)` takes it.
impl From<Option<isize>> for EmbeddingOptions {
    fn from(padding_idx: Option<isize>) -> Self {
        EmbeddingOptions { padding_idx, ..Default::default() }
    }
}

/// A lookup table (`nn.Embedding(num_embeddings, embedding_dim)`): `forward` maps a tensor of indices of
/// any shape (whole numbers in the element type, as torchlet's label tensors) to `[*shape, embedding_dim]`.
/// The weight `[num_embeddings, embedding_dim]` starts as N(0, 1) draws; the `padding_idx` row, if any,
/// starts at zero and its gradient is always zero. With a `max_norm`, each lookup first rescales the rows
/// it takes whose norm exceeds it, in place, as torch's does.
///
/// ```
/// use torchlet::nn::{Embedding, Module};
/// use torchlet::Tensor;
/// torchlet::manual_seed(0);
/// let emb = Embedding::<f32>::new(10, 3);
/// let out = emb.forward(&Tensor::new([[1.0, 2.0], [4.0, 9.0]]))?;
/// assert_eq!(out.shape(), &[2, 2, 3]);
/// assert_eq!(emb.forward_indices(&[4])?.to_vec()?, emb.weight().to_vec2()?[4]);
/// let err = emb.forward(&Tensor::new([[1.0, 2.0], [10.0, 0.0]])).unwrap_err();
/// assert_eq!(err.to_string(), "Embedding: index 10 at position [1, 0] is out of range for num_embeddings 10");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub struct Embedding<T: Element> {
    weight: Tensor<T>,
    padding_idx: Option<usize>,
    max_norm: Option<f64>,
    norm_type: f64,
}

impl<T: Element> Embedding<T> {
    /// The table with torch's defaults, drawn from the default generator ([`crate::manual_seed`]).
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Self {
        crate::random::with_default_generator(|rng| {
            Self::with_rng(num_embeddings, embedding_dim, EmbeddingOptions::default(), rng)
        })
        .expect("no padding_idx, nothing to check")
    }

    /// The table with `options`, drawn from the default generator; a `padding_idx` outside
    /// `[-num_embeddings, num_embeddings)` is an error.
    pub fn with_options(num_embeddings: usize, embedding_dim: usize, options: EmbeddingOptions) -> Result<Self> {
        crate::random::with_default_generator(|rng| Self::with_rng(num_embeddings, embedding_dim, options, rng))
    }

    /// The table with `options`, its weight drawn from `rng` (N(0, 1), row by row), the padding row then
    /// set to zero.
    ///
    /// ```
    /// use torchlet::nn::{Embedding, EmbeddingOptions};
    /// use torchlet::rand::{rngs::StdRng, SeedableRng};
    /// let options = EmbeddingOptions::default().padding_idx(0);
    /// let emb = Embedding::<f64>::with_rng(3, 2, options, &mut StdRng::seed_from_u64(1))?;
    /// assert_eq!(emb.weight().to_vec2()?[0], vec![0.0, 0.0]);
    /// assert!(Embedding::<f64>::with_rng(3, 2, EmbeddingOptions::default().padding_idx(3), &mut StdRng::seed_from_u64(1)).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn with_rng<R: Rng + ?Sized>(
        num_embeddings: usize,
        embedding_dim: usize,
        options: EmbeddingOptions,
        rng: &mut R,
    ) -> Result<Self> {
        let padding_idx = resolve_padding_idx(options.padding_idx, num_embeddings)?;
        let weight = Tensor::<T>::randn_with(&[num_embeddings, embedding_dim], rng);
        let weight = match padding_idx {
            Some(p) => {
                let mut values = weight.to_vec()?;
                values[p * embedding_dim..(p + 1) * embedding_dim].fill(T::zero());
                Tensor::from_vec(values, &[num_embeddings, embedding_dim])?
            }
            None => weight,
        };
        let weight = weight.requires_grad_(true)?;
        Ok(Embedding { weight, padding_idx, max_norm: options.max_norm, norm_type: options.norm_type })
    }

    /// A table holding a copy of `embeddings` `[num_embeddings, embedding_dim]`
    /// (`nn.Embedding.from_pretrained(embeddings, freeze, padding_idx, max_norm, norm_type)`): with `freeze`
    /// its weight does not require grad. `options` is the padding row (`None`, `Some(0)`) or an
    /// [`EmbeddingOptions`]. The padding row keeps its given values, as torch's.
    ///
    /// ```
    /// use torchlet::nn::{Embedding, Module};
    /// use torchlet::Tensor;
    /// let emb = Embedding::from_pretrained(&Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0]]), true, None)?;
    /// assert_eq!(emb.forward_indices(&[1, 1])?.to_vec2()?, vec![vec![3.0, 4.0], vec![3.0, 4.0]]);
    /// assert!(!emb.weight().requires_grad());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn from_pretrained(embeddings: &Tensor<T>, freeze: bool, options: impl Into<EmbeddingOptions>) -> Result<Self> {
        let options = options.into();
        if embeddings.rank() != 2 {
            return Err(Error::shape(
                "Embedding::from_pretrained",
                format!("Embeddings parameter is expected to be 2-dimensional, got shape {:?}", embeddings.shape()),
            ));
        }
        let padding_idx = resolve_padding_idx(options.padding_idx, embeddings.shape()[0])?;
        let weight = no_grad(|| embeddings.deep_clone())?.requires_grad_(!freeze)?;
        Ok(Embedding { weight, padding_idx, max_norm: options.max_norm, norm_type: options.norm_type })
    }

    /// The table `[num_embeddings, embedding_dim]` (`emb.weight`): the parameter itself, not a copy.
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The number of rows (`emb.num_embeddings`).
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape()[0]
    }

    /// The length of each row (`emb.embedding_dim`).
    pub fn embedding_dim(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The padding row, counted from the start (`emb.padding_idx`).
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }

    /// The bound on a looked-up row's norm (`emb.max_norm`).
    pub fn max_norm(&self) -> Option<f64> {
        self.max_norm
    }

    /// The `p` of the norm that `max_norm` bounds (`emb.norm_type`).
    pub fn norm_type(&self) -> f64 {
        self.norm_type
    }

    /// A copy of the table on `device` (`emb.to(device)`), requiring grad as this one's weight does.
    ///
    /// ```
    /// use torchlet::{nn::Embedding, Device, Tensor};
    /// let emb = Embedding::from_pretrained(&Tensor::<f32>::new([[1.0], [2.0]]), false, Some(0))?.to(Device::Cpu)?;
    /// assert_eq!((emb.padding_idx(), emb.weight().requires_grad()), (Some(0), true));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to(&self, device: Device) -> Result<Self> {
        let weight = no_grad(|| self.weight.to(device)?.deep_clone())?.requires_grad_(self.weight.requires_grad())?;
        Ok(Embedding { weight, ..*self })
    }

    /// The rows at `indices`, `[indices.len(), embedding_dim]`; an index out of range is an error naming it
    /// and its position.
    ///
    /// ```
    /// use torchlet::nn::Embedding;
    /// use torchlet::Tensor;
    /// let emb = Embedding::from_pretrained(&Tensor::<f32>::new([[1.0], [2.0]]), false, None)?;
    /// assert_eq!(emb.forward_indices(&[1, 0, 1])?.to_vec()?, vec![2.0, 1.0, 2.0]);
    /// let err = emb.forward_indices(&[0, 2]).unwrap_err();
    /// assert_eq!(err.to_string(), "Embedding: index 2 at position [1] is out of range for num_embeddings 2");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn forward_indices(&self, indices: &[usize]) -> Result<Tensor<T>> {
        let n = self.num_embeddings();
        if let Some((i, bad)) = indices.iter().enumerate().find(|(_, &v)| v >= n) {
            return Err(out_of_range(bad, &[i], n));
        }
        self.lookup_renormed(indices)
    }

    /// The rows at checked `indices`, after bringing those over `max_norm` back to it (torch's forward:
    /// `embedding_renorm_` under `no_grad`, then the lookup).
    fn lookup_renormed(&self, indices: &[usize]) -> Result<Tensor<T>> {
        if let Some(max_norm) = self.max_norm {
            renorm_rows(&self.weight, indices, max_norm, self.norm_type)?;
        }
        lookup(&self.weight, indices, self.padding_idx)
    }
}

/// The rows of `weight` `[num_embeddings, embedding_dim]` at `input`'s indices
/// (`F.embedding(input, weight, padding_idx)`), `[*input.shape, embedding_dim]`. The indices are whole
/// numbers in the element type; one that is not, or is out of range, is an error naming it and its
/// position. No gradient reaches the `padding_idx` row (negative counts from the end).
///
/// ```
/// use torchlet::nn::functional::embedding;
/// use torchlet::Tensor;
/// let weight = Tensor::<f64>::new([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]).requires_grad_(true)?;
/// let out = embedding(&Tensor::new([0.0, 2.0, 2.0]), &weight, Some(0))?;
/// assert_eq!(out.to_vec2()?, vec![vec![1.0, 1.0], vec![3.0, 3.0], vec![3.0, 3.0]]);
/// out.sum()?.backward()?;
/// assert_eq!(weight.grad().unwrap().to_vec2()?, vec![vec![0.0, 0.0], vec![0.0, 0.0], vec![2.0, 2.0]]);
/// let err = embedding(&Tensor::new([[0.0, 1.5]]), &weight, None).unwrap_err();
/// assert_eq!(err.to_string(), "Embedding: 1.5 at position [0, 1] is not an index (a whole number >= 0)");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn embedding<T: Element>(input: &Tensor<T>, weight: &Tensor<T>, padding_idx: Option<isize>) -> Result<Tensor<T>> {
    check_weight(weight)?;
    let padding_idx = resolve_padding_idx(padding_idx, weight.shape()[0])?;
    let flat = parse_indices(input, weight.shape()[0])?;
    let mut shape = input.shape().to_vec();
    shape.push(weight.shape()[1]);
    lookup(weight, &flat, padding_idx)?.reshape(&shape)
}

/// Fails unless `weight` is a table `[num_embeddings, embedding_dim]`.
pub(super) fn check_weight<T: Element>(weight: &Tensor<T>) -> Result<()> {
    if weight.rank() != 2 {
        return Err(Error::shape(
            "Embedding",
            format!("weight must be 2-D [num_embeddings, embedding_dim], got shape {:?}", weight.shape()),
        ));
    }
    Ok(())
}

/// `input`'s values as row indices into a table of `n` rows, flattened; a value that is not a whole number
/// >= 0, or is out of range, is an error naming it and its position.
pub(super) fn parse_indices<T: Element>(input: &Tensor<T>, n: usize) -> Result<Vec<usize>> {
    let not_an_index = |i: usize, v: T| {
        let at = position(i, input.shape());
        Error::invalid("Embedding", format!("{v} at position {at:?} is not an index (a whole number >= 0)"))
    };
    let values = input.to_vec()?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let whole = v.to_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0);
            let index =
                whole.and_then(|f| v.to_usize().filter(|&u| u as f64 == f)).ok_or_else(|| not_an_index(i, v))?;
            if index >= n {
                return Err(out_of_range(index, &position(i, input.shape()), n));
            }
            Ok(index)
        })
        .collect()
}

/// `[indices.len(), dim]` from checked indices. Rows looked up at the padding index come from a detached
/// weight, so no gradient reaches that row (torch's `embedding_backward` skips it); `where_` picks the
/// values exactly, whatever the padding row holds.
fn lookup<T: Element>(weight: &Tensor<T>, indices: &[usize], padding_idx: Option<usize>) -> Result<Tensor<T>> {
    let rows = weight.index_select(0, indices)?;
    let Some(p) = padding_idx.filter(|p| indices.contains(p)) else { return Ok(rows) };
    let mask: Vec<T> = indices.iter().map(|&i| if i == p { T::zero() } else { T::one() }).collect();
    let mask = Tensor::from_vec(mask, &[indices.len(), 1])?.to(weight.device())?;
    let frozen = weight.detach().index_select(0, indices)?;
    where_(&mask, &rows, &frozen)
}

fn resolve_padding_idx(padding_idx: Option<isize>, num_embeddings: usize) -> Result<Option<usize>> {
    let Some(p) = padding_idx else { return Ok(None) };
    let n = num_embeddings as isize;
    if p >= n || p < -n {
        return Err(Error::invalid(
            "Embedding",
            format!("Padding_idx must be within num_embeddings (padding_idx {p}, num_embeddings {num_embeddings})"),
        ));
    }
    Ok(Some(if p < 0 { (p + n) as usize } else { p as usize }))
}

fn out_of_range(index: impl std::fmt::Display, position: &[usize], n: usize) -> Error {
    Error::invalid(
        "Embedding",
        format!("index {index} at position {position:?} is out of range for num_embeddings {n}"),
    )
}

/// The multi-dim position of flat index `flat` in `shape`, for messages.
fn position(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (p, &d) in pos.iter_mut().zip(shape).rev() {
        *p = flat % d.max(1);
        flat /= d.max(1);
    }
    pos
}

impl<T: Element> Module<T> for Embedding<T> {
    /// The rows at `indices` (any shape, whole numbers in `[0, num_embeddings)`), `[*shape, embedding_dim]`
    /// (`emb(indices)`). A value that is not a whole number >= 0, or out of range, is an error naming it and
    /// its position in `indices`.
    fn forward(&self, indices: &Tensor<T>) -> Result<Tensor<T>> {
        let flat = parse_indices(indices, self.num_embeddings())?;
        let mut shape = indices.shape().to_vec();
        shape.push(self.embedding_dim());
        self.lookup_renormed(&flat)?.reshape(&shape)
    }

    /// `weight`.
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        vec![("weight".to_string(), self.weight.clone())]
    }
}

impl<T: Element> std::fmt::Debug for Embedding<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding({}, {}", self.num_embeddings(), self.embedding_dim())?;
        if let Some(p) = self.padding_idx {
            write!(f, ", padding_idx={p}")?;
        }
        if let Some(max_norm) = self.max_norm {
            write!(f, ", max_norm={max_norm:?}")?;
        }
        if self.norm_type != 2.0 {
            write!(f, ", norm_type={:?}", self.norm_type)?;
        }
        write!(f, ")")
    }
}
