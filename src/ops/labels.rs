//! Class labels as tensors: torchlet tensors hold floats only, so a label tensor (torch's `LongTensor` of
//! class indices) holds whole numbers in the element type, as the data generators return them. This is
//! where they are read back as indices, each checked: a NaN, a fraction or a negative value is an error
//! naming it and where it is, never a silent truncation.

use std::borrow::Cow;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// The elements as class indices, in row-major order (`y.tolist()` of a label tensor): each must be a
    /// whole number >= 0, otherwise an error names the value and its (flat) index.
    ///
    /// ```
    /// use torchlet::Tensor;
    /// assert_eq!(Tensor::<f32>::new([2.0, 0.0, 1.0]).to_labels()?, vec![2, 0, 1]);
    /// let err = Tensor::<f32>::new([0.0, 1.5]).to_labels().unwrap_err();
    /// assert_eq!(err.to_string(), "to_labels: 1.5 at index 1 is not a class index (a whole number >= 0)");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn to_labels(&self) -> Result<Vec<usize>> {
        class_indices("to_labels", "", "index", self)
    }
}

/// The values of `labels` as class indices, or an error `op: {what}{v} at {position} {i} is not a class
/// index ...` for the first that is not a whole number >= 0.
pub(crate) fn class_indices<T: Element>(
    op: &'static str,
    what: &str,
    position: &str,
    labels: &Tensor<T>,
) -> Result<Vec<usize>> {
    labels
        .to_vec()?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let whole = v.to_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0);
            whole.and_then(|f| v.to_usize().filter(|&u| u as f64 == f)).ok_or_else(|| {
                Error::invalid(op, format!("{what}{v} at {position} {i} is not a class index (a whole number >= 0)"))
            })
        })
        .collect()
}

/// Class labels in any of the forms a program holds them: a slice, array or `Vec` of `usize`, or a label
/// tensor of whole numbers. The classification metrics and [`one_hot`](crate::data::one_hot) take any of
/// them.
pub trait AsLabels {
    /// The labels as indices; for a tensor, checked as [`Tensor::to_labels`] checks them, the error naming
    /// `op`.
    fn as_labels(&self, op: &'static str) -> Result<Cow<'_, [usize]>>;
}

impl AsLabels for [usize] {
    fn as_labels(&self, _op: &'static str) -> Result<Cow<'_, [usize]>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<const N: usize> AsLabels for [usize; N] {
    fn as_labels(&self, _op: &'static str) -> Result<Cow<'_, [usize]>> {
        Ok(Cow::Borrowed(self))
    }
}

impl AsLabels for Vec<usize> {
    fn as_labels(&self, _op: &'static str) -> Result<Cow<'_, [usize]>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<T: Element> AsLabels for Tensor<T> {
    fn as_labels(&self, op: &'static str) -> Result<Cow<'_, [usize]>> {
        class_indices(op, "label ", "index", self).map(Cow::Owned)
    }
}
