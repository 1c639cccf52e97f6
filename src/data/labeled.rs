//! Labelled data: the [`Classification`] that the classification generators and [`load_digits`] return, and
//! the conversions of class labels into tensors.
//!
//! [`load_digits`]: super::load_digits

use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::AsLabels;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Inputs with one class label per row, as scikit-learn's `(X, y)` for a classification problem.
///
/// The labels are a label tensor `[n_samples]` of class indices `0..n_classes` (whole numbers in the element
/// type, torch's `torch.tensor(y)`): they go through [`train_test_split`](super::train_test_split) and a
/// [`DataLoader`](super::DataLoader) beside `x`, into `cross_entropy` as its target and into the
/// classification metrics ([`crate::metrics::accuracy`], ...) as they are; [`Tensor::to_labels`] reads them
/// back as `usize`s.
///
/// ```
/// use torchlet::data::{make_moons, MakeMoons};
/// let data = make_moons::<f32>(&MakeMoons { n_samples: 6, ..Default::default() })?;
/// assert_eq!((data.x.shape(), data.y.shape()), (&[6, 2][..], &[6][..]));
/// assert_eq!(data.y.to_labels()?.iter().filter(|&&label| label == 1).count(), 3);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Classification<T: Element> {
    /// The inputs, `[n_samples, n_features]`.
    pub x: Tensor<T>,
    /// The class of each row of `x`, `[n_samples]`.
    pub y: Tensor<T>,
}

/// The labels as a 1-D tensor of their values, `[n]` (the tutorials' `torch.tensor(y).to(float64)`, a
/// binary target for `BCELoss`).
///
/// ```
/// use torchlet::data::labels_to_tensor;
/// assert_eq!(labels_to_tensor::<f64>(&[0, 1, 1, 2]).to_vec()?, vec![0.0, 1.0, 1.0, 2.0]);
/// assert_eq!(labels_to_tensor::<f32>(&[]).shape(), &[0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn labels_to_tensor<T: Element>(labels: &[usize]) -> Tensor<T> {
    let values: Vec<T> = labels.iter().map(|&label| T::from_f64_lossy(label as f64)).collect();
    let n = values.len();
    Tensor::from_vec(values, &[n]).expect("n values fill a tensor of shape [n]")
}

/// One row per label with a 1 in the label's column and 0 elsewhere, `[n, num_classes]`
/// (`torch.nn.functional.one_hot(y, num_classes)`, as a float tensor for probability targets).
///
/// The labels come as a `usize` slice, array or `Vec`, or a label tensor ([`AsLabels`]). Fails when
/// `num_classes` is 0 or a label is not below it (or, in a tensor, not a class index).
///
/// ```
/// use torchlet::data::one_hot;
/// assert_eq!(one_hot::<f64>(&[2, 0], 3)?.to_vec2()?, vec![vec![0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0]]);
/// let err = one_hot::<f32>(&[0, 3], 3).unwrap_err();
/// assert_eq!(err.to_string(), "one_hot: label 3 (at index 1) must be smaller than num_classes (3)");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn one_hot<T: Element>(labels: &(impl AsLabels + ?Sized), num_classes: usize) -> Result<Tensor<T>> {
    let labels = labels.as_labels("one_hot")?;
    if num_classes == 0 {
        return Err(Error::invalid("one_hot", "num_classes must be at least 1, got 0"));
    }
    if let Some((i, label)) = labels.iter().enumerate().find(|(_, &label)| label >= num_classes) {
        return Err(Error::invalid(
            "one_hot",
            format!("label {label} (at index {i}) must be smaller than num_classes ({num_classes})"),
        ));
    }
    let mut values = vec![T::zero(); labels.len() * num_classes];
    for (row, &label) in values.chunks_exact_mut(num_classes).zip(labels.iter()) {
        row[label] = T::one();
    }
    Tensor::from_vec(values, &[labels.len(), num_classes])
}

/// Fails naming `op`, the parameter and its value when one of `counts` is below 1.
pub(super) fn at_least_one(op: &'static str, counts: &[(&str, usize)]) -> Result<()> {
    match counts.iter().find(|(_, value)| *value == 0) {
        Some((name, _)) => Err(Error::invalid(op, format!("{name} must be at least 1, got 0"))),
        None => Ok(()),
    }
}

/// Fails naming `op` unless the optional noise is finite and >= 0.
pub(super) fn check_noise(op: &'static str, noise: Option<f64>) -> Result<()> {
    match noise {
        Some(v) if !(v.is_finite() && v >= 0.0) => {
            Err(Error::invalid(op, format!("noise must be None or finite and >= 0, got {v}")))
        }
        _ => Ok(()),
    }
}

/// Permutes the rows of the row-major `x` (rows of `width` values) and the labels `y` together.
pub(super) fn shuffle_rows(x: &mut Vec<f64>, y: &mut Vec<usize>, width: usize, rng: &mut StdRng) {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.shuffle(rng);
    *x = order.iter().flat_map(|&r| x[r * width..(r + 1) * width].iter().copied()).collect();
    *y = order.iter().map(|&r| y[r]).collect();
}

/// The row-major `f64` values as a tensor of element `T` and shape `[values.len() / width, width]`.
pub(super) fn matrix<T: Element>(values: Vec<f64>, width: usize) -> Result<Tensor<T>> {
    let rows = values.len().checked_div(width).unwrap_or(0);
    Tensor::from_vec(values.into_iter().map(T::from_f64_lossy).collect(), &[rows, width])
}
