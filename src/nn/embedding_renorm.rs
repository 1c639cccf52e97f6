//! `torch.embedding_renorm_`: the rows of an embedding table that a lookup references, brought back to a
//! largest norm in place, as `nn.Embedding(max_norm=...)` does before each lookup.

use super::embedding::{check_weight, parse_indices};
use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

/// Rescales in place each row of `weight` `[num_embeddings, embedding_dim]` that `indices` (any shape,
/// whole numbers in the element type) references and whose `norm_type`-norm exceeds `max_norm`, by
/// `max_norm / (norm + 1e-7)` (`torch.embedding_renorm_(weight, indices, max_norm, norm_type)`, which
/// `F.embedding(..., max_norm=...)` runs under `no_grad` before its lookup). Nothing is recorded for
/// autograd; the weight's version goes up, as any in-place write's. Indices are checked before any row
/// changes.
///
/// ```
/// use torchlet::nn::functional::embedding_renorm_;
/// use torchlet::Tensor;
/// let weight = Tensor::<f64>::new([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]);
/// embedding_renorm_(&weight, &Tensor::new([0.0, 1.0, 0.0]), 1.0, 2.0)?;
/// let rows = weight.to_vec2()?;
/// assert!((rows[0][0] - 0.6).abs() < 1e-7 && (rows[0][1] - 0.8).abs() < 1e-7);
/// assert_eq!(rows[1..], [vec![0.3, 0.4], vec![6.0, 8.0]]); // within the bound; not referenced
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn embedding_renorm_<T: Element>(
    weight: &Tensor<T>,
    indices: &Tensor<T>,
    max_norm: f64,
    norm_type: f64,
) -> Result<()> {
    check_weight(weight)?;
    let rows = parse_indices(indices, weight.shape()[0])?;
    renorm_rows(weight, &rows, max_norm, norm_type)
}

/// [`embedding_renorm_`] on checked row indices. As torch's, each distinct row is measured once, in the
/// element type, and multiplied by the scale rounded to it.
pub(super) fn renorm_rows<T: Element>(weight: &Tensor<T>, rows: &[usize], max_norm: f64, norm_type: f64) -> Result<()> {
    let mut distinct = rows.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let dim = weight.shape()[1];
    if distinct.is_empty() || dim == 0 {
        return Ok(());
    }
    no_grad(|| {
        // Only the referenced rows come to the host to be measured; each one over the bound is scaled where
        // it lies, on the weight's device.
        let values = weight.index_select(0, &distinct)?.to_vec()?;
        for (&row, values) in distinct.iter().zip(values.chunks(dim)) {
            let norm = T::from_f64_lossy(p_norm(values, norm_type)).to_f64().unwrap_or(f64::NAN);
            if norm > max_norm {
                weight.narrow(0, row, 1)?.mul_scalar_(T::from_f64_lossy(max_norm / (norm + 1e-7)))?;
            }
        }
        Ok(())
    })
}

/// torch's `norm(p)` of one row: the largest magnitude for `p = ∞`, the smallest for `−∞`, the count of
/// non-zeros for 0, `(Σ|x|^p)^(1/p)` otherwise; NaN when the row holds one (a count for `p = 0`).
fn p_norm<T: Element>(values: &[T], p: f64) -> f64 {
    let abs = values.iter().map(|v| v.to_f64().unwrap_or(f64::NAN).abs());
    if values.iter().any(|v| v.to_f64().is_none_or(f64::is_nan)) && p != 0.0 {
        return f64::NAN;
    }
    match p {
        f64::INFINITY => abs.fold(0.0, f64::max),
        f64::NEG_INFINITY => abs.fold(f64::INFINITY, f64::min),
        0.0 => abs.filter(|&a| a != 0.0).count() as f64,
        1.0 => abs.sum(),
        2.0 => abs.map(|a| a * a).sum::<f64>().sqrt(),
        _ => abs.map(|a| a.powf(p)).sum::<f64>().powf(1.0 / p),
    }
}
