//! The negative log-likelihood of class indices as one recorded op, torch's `NllLossBackward0`.
//!
//! Only one log-probability per sample enters the loss. The forward gathers those on the device (one
//! `index_select`), weighs and sums them on the host, and moves the loss to the device. The backward
//! writes each counted sample's one non-zero entry into a zeroed buffer. Composed of `gather`, `mul`,
//! `sum` and `div`, the same loss recorded four ops and made a buffer for each.
//!
//! The arithmetic is torch's: each counted sample contributes `-p · w`, summed in sample order; the mean
//! divides by the weight of the samples counted. The gradient of a counted sample's entry is `-(g / W) · w`
//! for the mean (W that weight; 1/0 when it is 0, so NaN for a weight of 0), `-g · w` otherwise. Ignored
//! samples get 0 and are never visited.

use super::loss_classification::{batch_and_classes, sample_weights};
use super::Reduction;
use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use crate::storage::host_buffer;
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The samples counted in the loss: for each, its row, the flat index of its target's entry in the
/// `[N, C]` input, and its weight.
struct Counted<T> {
    rows: Vec<usize>,
    entries: Vec<usize>,
    weights: Vec<T>,
}

/// [`super::functional::nll_loss`] of checked-shape class indices, its errors naming `op` (the function
/// the user called).
pub(super) fn nll<T: Element>(
    op: &'static str,
    input: &Tensor<T>,
    target: &[usize],
    weight: Option<&Tensor<T>>,
    ignore_index: Option<usize>,
    reduction: Reduction,
) -> Result<Tensor<T>> {
    let (n, classes) = batch_and_classes(op, input)?;
    if target.len() != n {
        return Err(Error::shape(
            op,
            format!("expected {n} targets for an input of shape {:?}, got {}", input.shape(), target.len()),
        ));
    }
    let sample_weight = sample_weights(op, target, classes, weight, ignore_index)?;
    let total = sample_weight.iter().fold(T::zero(), |s, &w| s + w);
    let counted_rows = (0..n).filter(|&i| Some(target[i]) != ignore_index);
    let mut counted =
        Counted { rows: Vec::with_capacity(n), entries: Vec::with_capacity(n), weights: Vec::with_capacity(n) };
    for i in counted_rows {
        counted.rows.push(i);
        counted.entries.push(i * classes + target[i]);
        counted.weights.push(sample_weight[i]);
    }

    // The picked log-probabilities, gathered where the input lives.
    let flat = input.contiguous()?;
    let flat_layout = Layout { offset: flat.layout().offset, ..Layout::contiguous(&[n * classes]) };
    let picked = flat.read().index_select0(&flat_layout, &counted.entries)?;
    let picked = picked.to_vec(&Layout::contiguous(&[counted.entries.len()]))?;
    let terms = picked.iter().zip(&counted.weights).map(|(&p, &w)| -p * w);
    let loss = match reduction {
        Reduction::None => {
            let mut losses = host_buffer(n);
            losses.resize(n, T::zero());
            for (&i, term) in counted.rows.iter().zip(terms) {
                losses[i] = term;
            }
            let shape: &[usize] = if input.rank() == 1 { &[] } else { &[n] };
            Tensor::from_vec(losses, shape)?
        }
        Reduction::Sum | Reduction::Mean => {
            let sum = terms.fold(T::zero(), |s, t| s + t);
            let mut loss = host_buffer(1);
            loss.push(if reduction == Reduction::Mean { sum / total } else { sum });
            Tensor::from_vec(loss, &[])?
        }
    };
    let loss = loss.to(input.device())?;
    Ok(record("NllLossBackward0", loss, &[input], |_| NllBackward {
        shape: input.shape().to_vec(),
        counted,
        total,
        reduction,
    }))
}

/// The gradient of [`nll`]: zero but for each counted sample's target entry.
struct NllBackward<T: Element> {
    shape: Vec<usize>,
    counted: Counted<T>,
    total: T,
    reduction: Reduction,
}

impl<T: Element> NllBackward<T> {
    /// The incoming gradient of a counted sample, divided by the counted weight for the mean.
    fn scale(&self, g: T) -> T {
        if self.reduction == Reduction::Mean {
            g / self.total
        } else {
            g
        }
    }
}

impl<T: Element> BackwardOp<T> for NllBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = grad.to_vec()?;
        let numel = crate::shape::numel(&self.shape);
        let mut out = host_buffer(numel);
        out.resize(numel, T::zero());
        let Counted { rows, entries, weights } = &self.counted;
        for ((&i, &entry), &w) in rows.iter().zip(entries).zip(weights) {
            // One gradient per sample with no reduction (a single one for an unbatched input), else one.
            let gi = if self.reduction == Reduction::None && g.len() > 1 { g[i] } else { g[0] };
            out[entry] = -self.scale(gi) * w;
        }
        Ok(smallvec![Some(Tensor::from_vec(out, &self.shape)?.to(grad.device())?)])
    }

    /// `-(g / W) · w` as recorded ops of the incoming gradient, times a constant holding each counted
    /// sample's weight at its target entry.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, _needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some((|| {
            let numel = crate::shape::numel(&self.shape);
            let mut weights = vec![T::zero(); numel];
            for (&entry, &w) in self.counted.entries.iter().zip(&self.counted.weights) {
                weights[entry] = w;
            }
            let weights = Tensor::from_vec(weights, &self.shape)?.to(grad.device())?;
            let g = match self.reduction {
                Reduction::Mean => grad.div_scalar(self.total)?,
                Reduction::Sum => grad.clone(),
                // One gradient per row, spread along the classes.
                Reduction::None if self.shape.len() == 2 => grad.reshape(&[self.shape[0], 1])?,
                Reduction::None => grad.clone(),
            };
            Ok(smallvec![Some(g.neg()?.mul(&weights)?)])
        })())
    }
}
