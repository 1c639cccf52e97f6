//! `TensorDataset`: several tensors indexed together along their first dimension.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Checks that `tensors` is non-empty and that each has a first dimension of the same size, and returns
/// that size. `op` names the caller in the error.
pub(crate) fn common_len<T: Element>(op: &'static str, tensors: &[Tensor<T>]) -> Result<usize> {
    let Some(first) = tensors.first() else {
        return Err(Error::invalid(op, "at least one tensor is required"));
    };
    if let Some((i, t)) = tensors.iter().enumerate().find(|(_, t)| t.rank() == 0) {
        return Err(Error::shape(op, format!("tensor {i} is 0-D (shape {:?}) and has no first dimension", t.shape())));
    }
    let n = first.shape()[0];
    if tensors.iter().any(|t| t.shape()[0] != n) {
        let shapes: Vec<&[usize]> = tensors.iter().map(Tensor::shape).collect();
        return Err(Error::shape(
            op,
            format!("size mismatch between tensors: first dimensions differ in shapes {shapes:?}"),
        ));
    }
    Ok(n)
}

/// Samples made of the same row of several tensors (`torch.utils.data.TensorDataset`): sample `i` is
/// `(t[i] for t in tensors)`. All tensors must have the same size in dimension 0.
///
/// ```
/// use torchlet::data::TensorDataset;
/// use torchlet::Tensor;
/// let x = Tensor::new([[73.0, 67.0, 43.0], [91.0, 88.0, 64.0]]);
/// let y = Tensor::new([[56.0, 70.0], [81.0, 101.0]]);
/// let ds = TensorDataset::new(vec![x, y])?;
/// assert_eq!(ds.len(), 2);
/// let sample = ds.get(1)?;
/// assert_eq!(sample[0].to_vec()?, vec![91.0, 88.0, 64.0]);
/// assert_eq!(sample[1].to_vec()?, vec![81.0, 101.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset<T: Element> {
    tensors: Vec<Tensor<T>>,
    len: usize,
}

impl<T: Element> TensorDataset<T> {
    /// A dataset over `tensors`; fails when there are none, one is 0-D, or their first dimensions differ.
    ///
    /// ```
    /// use torchlet::{data::TensorDataset, Tensor};
    /// let err = TensorDataset::new(vec![Tensor::<f64>::zeros(&[3, 2]), Tensor::zeros(&[4])]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "TensorDataset: size mismatch between tensors: first dimensions differ in shapes [[3, 2], [4]]"
    /// );
    /// ```
    pub fn new(tensors: Vec<Tensor<T>>) -> Result<Self> {
        let len = common_len("TensorDataset", &tensors)?;
        Ok(TensorDataset { tensors, len })
    }

    /// The number of samples (`len(dataset)`).
    ///
    /// ```
    /// use torchlet::{data::TensorDataset, Tensor};
    /// assert_eq!(TensorDataset::new(vec![Tensor::<f32>::zeros(&[5, 3])])?.len(), 5);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when the dataset has no samples.
    ///
    /// ```
    /// use torchlet::{data::TensorDataset, Tensor};
    /// assert!(TensorDataset::new(vec![Tensor::<f32>::zeros(&[0, 3])])?.is_empty());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tensors, in the order given (`dataset.tensors`).
    ///
    /// ```
    /// use torchlet::{data::TensorDataset, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5, 3]), Tensor::zeros(&[5])])?;
    /// assert_eq!(ds.tensors()[1].shape(), &[5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn tensors(&self) -> &[Tensor<T>] {
        &self.tensors
    }

    /// Sample `index`: row `index` of every tensor, without its first dimension (`dataset[index]`). The
    /// rows are views, not copies.
    ///
    /// ```
    /// use torchlet::{data::TensorDataset, Tensor};
    /// let ds = TensorDataset::new(vec![Tensor::new([1.0, 2.0, 3.0])])?;
    /// assert_eq!(ds.get(2)?[0].item()?, 3.0);
    /// assert_eq!(ds.get(3).unwrap_err().to_string(), "TensorDataset::get: index 3 is out of range for a dataset of 3 samples");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<Vec<Tensor<T>>> {
        if index >= self.len {
            return Err(Error::invalid(
                "TensorDataset::get",
                format!("index {index} is out of range for a dataset of {} samples", self.len),
            ));
        }
        self.tensors.iter().map(|t| t.narrow(0, index, 1)?.squeeze_dim(0)).collect()
    }
}
