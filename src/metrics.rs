//! The tutorials' comparison metrics: a modified MAPE and the L2 distance, to compare two models'
//! predictions and parameters; and scikit-learn's classification metrics on class labels: [`accuracy`],
//! [`confusion_matrix`] and [`precision_recall_f1`], with [`argmax_rows`] to turn scores into labels.
//!
//! ```
//! use torchlet::metrics::{l2_distance, mape};
//! use torchlet::Tensor;
//! let (ours, theirs) = (Tensor::new([1.0, 2.0, 4.0]), Tensor::new([1.0, 2.0, 4.0 + 1e-12]));
//! assert!(mape(&ours, &theirs)? < 1e-10 && l2_distance(&ours, &theirs)? < 1e-11);
//! # Ok::<(), torchlet::Error>(())
//! ```

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

mod classification;

pub use classification::{accuracy, argmax_rows, confusion_matrix, precision_recall_f1, PrecisionRecallF1};

fn same_shape<T: Element>(op: &'static str, a: &Tensor<T>, b: &Tensor<T>) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::shape(op, format!("shapes {:?} and {:?} must match", a.shape(), b.shape())));
    }
    Ok(())
}

/// The tutorials' modified mean absolute percentage error, in percent:
/// `100 · (Σ_{tᵢ≠0} |(tᵢ − pᵢ) / tᵢ| + Σ_{tᵢ=0} |pᵢ|) / n`, where an exact zero in `truth` counts the absolute
/// prediction instead of dividing by zero.
///
/// The shapes must match (0-D tensors compare two scalars); accumulated in `f64`. Fails on a shape mismatch
/// or empty tensors.
///
/// ```
/// use torchlet::metrics::mape;
/// use torchlet::Tensor;
/// let a = Tensor::full(&[3, 3], 2.0);
/// assert_eq!(mape(&a, &a)?, 0.0);
/// assert_eq!(mape(&(&a * 0.0), &a)?, 100.0);
/// assert_eq!(mape(&-&a, &a)?, 200.0);
/// assert_eq!(mape(&a, &(&a * 0.0))?, 200.0);
/// assert_eq!(mape(&Tensor::scalar(1.5), &Tensor::scalar(1.0))?, 50.0);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn mape<T: Element>(pred: &Tensor<T>, truth: &Tensor<T>) -> Result<T> {
    same_shape("mape", pred, truth)?;
    if pred.numel() == 0 {
        return Err(Error::invalid("mape", format!("cannot average over empty tensors of shape {:?}", pred.shape())));
    }
    let total: f64 = pred
        .to_vec()?
        .into_iter()
        .zip(truth.to_vec()?)
        .map(|(p, t)| {
            let (p, t) = (p.to_f64().unwrap_or(f64::NAN), t.to_f64().unwrap_or(f64::NAN));
            if t != 0.0 {
                ((t - p) / t).abs()
            } else {
                p.abs()
            }
        })
        .sum();
    Ok(T::from_f64_lossy(100.0 * total / pred.numel() as f64))
}

/// The Euclidean (L2) norm of `a − b` over all elements, `sqrt(Σ (aᵢ − bᵢ)²)`, accumulated in `f64`
/// (`torch.dist(a, b)`, or `torch.norm(a - b)`). The shapes must match; 0 for empty tensors.
///
/// ```
/// use torchlet::metrics::l2_distance;
/// use torchlet::Tensor;
/// assert_eq!(l2_distance(&Tensor::new([[3.0, 0.0]]), &Tensor::new([[0.0, 4.0]]))?, 5.0);
/// let err = l2_distance(&Tensor::new([1.0, 2.0]), &Tensor::new([[1.0, 2.0]])).unwrap_err();
/// assert_eq!(err.to_string(), "l2_distance: shapes [2] and [1, 2] must match");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn l2_distance<T: Element>(a: &Tensor<T>, b: &Tensor<T>) -> Result<T> {
    same_shape("l2_distance", a, b)?;
    let total: f64 = a
        .to_vec()?
        .into_iter()
        .zip(b.to_vec()?)
        .map(|(x, y)| {
            let d = x.to_f64().unwrap_or(f64::NAN) - y.to_f64().unwrap_or(f64::NAN);
            d * d
        })
        .sum();
    Ok(T::from_f64_lossy(total.sqrt()))
}
