//! Classification metrics on class labels, as scikit-learn's `sklearn.metrics` computes them.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::AsLabels;
use crate::tensor::Tensor;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Both label sets as indices (a label tensor checked, its error naming `op`), of the same, non-zero length.
fn both<'a, A, B>(op: &'static str, y_true: &'a A, y_pred: &'a B) -> Result<[Cow<'a, [usize]>; 2]>
where
    A: AsLabels + ?Sized,
    B: AsLabels + ?Sized,
{
    let (y_true, y_pred) = (y_true.as_labels(op)?, y_pred.as_labels(op)?);
    same_len(op, &y_true, &y_pred)?;
    Ok([y_true, y_pred])
}

/// Fails naming `op` unless the two label slices have the same, non-zero length.
fn same_len(op: &'static str, y_true: &[usize], y_pred: &[usize]) -> Result<()> {
    if y_true.len() != y_pred.len() {
        return Err(Error::shape(
            op,
            format!("y_true has {} labels and y_pred {}; they must have the same length", y_true.len(), y_pred.len()),
        ));
    }
    if y_true.is_empty() {
        return Err(Error::invalid(op, "y_true and y_pred are empty; at least 1 label is needed"));
    }
    Ok(())
}

/// The fraction of predictions that equal the true label (`sklearn.metrics.accuracy_score`, or the tutorials'
/// `mean(argmax == label)`). The labels come as `usize` slices, arrays or `Vec`s, or as label tensors
/// ([`AsLabels`]).
///
/// Fails when the label sets differ in length or are empty, or a label tensor holds a value that is not a
/// class index.
///
/// ```
/// use torchlet::metrics::accuracy;
/// assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 2, 2, 2])?, 0.75);
/// let err = accuracy(&[0, 1], &[0]).unwrap_err();
/// assert_eq!(err.to_string(), "accuracy: y_true has 2 labels and y_pred 1; they must have the same length");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn accuracy(y_true: &(impl AsLabels + ?Sized), y_pred: &(impl AsLabels + ?Sized)) -> Result<f64> {
    let [y_true, y_pred] = both("accuracy", y_true, y_pred)?;
    let correct = y_true.iter().zip(y_pred.iter()).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// The counts `m[i][j]` of samples of true class `i` predicted as class `j`, for the classes `0..=max`, where
/// `max` is the largest label in either slice (`sklearn.metrics.confusion_matrix(y_true, y_pred,
/// labels=range(max + 1))`).
///
/// scikit-learn's default keeps only the labels that occur; this is the same matrix whenever every class up to
/// the largest occurs in `y_true` or `y_pred`, and otherwise has zero rows and columns for the others, so that
/// `m[i][j]` is always about classes `i` and `j`. Fails when the slices differ in length or are empty, or when
/// the largest label is too large for a dense `(max + 1)²` matrix to be indexed.
///
/// ```
/// use torchlet::metrics::confusion_matrix;
/// let m = confusion_matrix(&[0, 1, 2, 2], &[0, 2, 2, 1])?;
/// assert_eq!(m, vec![vec![1, 0, 0], vec![0, 0, 1], vec![0, 1, 1]]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn confusion_matrix(
    y_true: &(impl AsLabels + ?Sized),
    y_pred: &(impl AsLabels + ?Sized),
) -> Result<Vec<Vec<usize>>> {
    let [y_true, y_pred] = both("confusion_matrix", y_true, y_pred)?;
    let max = y_true.iter().chain(y_pred.iter()).copied().max().unwrap_or(0);
    let side = max.checked_add(1).filter(|side| side.checked_mul(*side).is_some()).ok_or_else(|| {
        Error::invalid(
            "confusion_matrix",
            format!("label {max} is too large for a dense matrix of the classes 0..={max}"),
        )
    })?;
    let mut matrix = vec![vec![0; side]; side];
    for (&t, &p) in y_true.iter().zip(y_pred.iter()) {
        matrix[t][p] += 1;
    }
    Ok(matrix)
}

/// The macro-averaged precision, recall and F1 score that [`precision_recall_f1`] returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecallF1 {
    /// The mean over the classes of `TP / (TP + FP)`.
    pub precision: f64,
    /// The mean over the classes of `TP / (TP + FN)`.
    pub recall: f64,
    /// The mean over the classes of `2 TP / (2 TP + FP + FN)`, their F1 score (not the F1 of the mean
    /// precision and recall).
    pub f1: f64,
}

/// Precision, recall and F1, each the unweighted mean of the per-class values over the classes that occur in
/// `y_true` or `y_pred` (`sklearn.metrics.precision_recall_fscore_support(y_true, y_pred, average="macro")`,
/// and `precision_score`, `recall_score`, `f1_score` with `average="macro"`).
///
/// A class that is never predicted has no precision (0 / 0) and a class that never occurs in `y_true` has no
/// recall; each counts as 0, as with scikit-learn's default `zero_division="warn"` (which also warns). The F1
/// score of a class that occurs is always defined. Fails when the slices differ in length or are empty.
///
/// ```
/// use torchlet::metrics::precision_recall_f1;
/// // Class 2 is never predicted: its precision counts as 0.
/// let scores = precision_recall_f1(&[0, 1, 2, 2], &[0, 0, 1, 1])?;
/// assert_eq!((scores.precision, scores.recall), (0.5 / 3.0, 1.0 / 3.0));
/// assert!((scores.f1 - 2.0 / 9.0).abs() < 1e-15);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn precision_recall_f1(
    y_true: &(impl AsLabels + ?Sized),
    y_pred: &(impl AsLabels + ?Sized),
) -> Result<PrecisionRecallF1> {
    let [y_true, y_pred] = both("precision_recall_f1", y_true, y_pred)?;
    // Per class: [true positives, predicted count, true count].
    let mut counts: BTreeMap<usize, [usize; 3]> = BTreeMap::new();
    for (&t, &p) in y_true.iter().zip(y_pred.iter()) {
        counts.entry(p).or_default()[1] += 1;
        counts.entry(t).or_default()[2] += 1;
        if t == p {
            counts.entry(t).or_default()[0] += 1;
        }
    }
    let ratio = |num: usize, den: usize| if den == 0 { 0.0 } else { num as f64 / den as f64 };
    let (mut precision, mut recall, mut f1) = (0.0, 0.0, 0.0);
    for &[tp, predicted, actual] in counts.values() {
        precision += ratio(tp, predicted);
        recall += ratio(tp, actual);
        f1 += ratio(2 * tp, predicted + actual);
    }
    let n = counts.len() as f64;
    Ok(PrecisionRecallF1 { precision: precision / n, recall: recall / n, f1: f1 / n })
}

/// The column of the largest value in each row of a `[n, classes]` tensor of scores, logits or probabilities:
/// the predicted labels (`scores.argmax(dim=1)`). Ties go to the first column, and a NaN counts as the
/// largest, as in torch.
///
/// Fails unless `scores` is 2-D with at least one column.
///
/// ```
/// use torchlet::metrics::{accuracy, argmax_rows};
/// use torchlet::Tensor;
/// let logits = Tensor::new([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0]]);
/// let predicted = argmax_rows(&logits)?;
/// assert_eq!(predicted, [1, 0]);
/// assert_eq!(accuracy(&[1, 2], &predicted)?, 0.5);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn argmax_rows<T: Element>(scores: &Tensor<T>) -> Result<Vec<usize>> {
    if scores.rank() != 2 || scores.shape()[1] == 0 {
        return Err(Error::shape(
            "argmax_rows",
            format!("expected scores of shape [n, classes] with classes >= 1, got {:?}", scores.shape()),
        ));
    }
    let best = |row: &[T]| {
        let mut best = 0;
        for (j, &v) in row.iter().enumerate() {
            if v.is_nan() {
                return j;
            }
            if v > row[best] {
                best = j;
            }
        }
        best
    };
    Ok(scores.to_vec()?.chunks_exact(scores.shape()[1]).map(best).collect())
}
