//! Classification losses: `BCELoss`, `BCEWithLogitsLoss`, `NLLLoss` and `CrossEntropyLoss`, with torch's
//! reductions, class weights, `ignore_index` and label smoothing.
//!
//! Class-index targets are a label tensor with one dim fewer than the input, as torch's (whole numbers in the
//! element type, as the data generators and loaders give them), or plain `usize` slices, arrays and `Vec`s; a
//! label that is not a whole number, is negative or is ≥ the number of classes is an error naming it and its
//! row. `cross_entropy` also takes class probabilities, a tensor of the logits' shape (the tutorials pass
//! one-hot float targets): see [`ClassTarget`].

use super::loss::{check_same_shape, reduce, Reduction};
use super::nll::nll;
use crate::autograd::{no_grad, record, BackwardOp, Grads, GraphCtx, Saved};
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::class_indices;
use crate::tensor::Tensor;
use smallvec::smallvec;
use std::borrow::Cow;

/// The target of [`cross_entropy`] and [`nll_loss`], read as torch reads it: class indices, one per sample,
/// or class probabilities shaped like the input. `&[usize]`, `&[usize; N]` and `&Vec<usize>` are class
/// indices; a `&Tensor<T>` is class indices when it has one dim fewer than the input (`[N]` for `[N, C]`,
/// 0-dim for `[C]`) and probabilities when it has the input's shape.
#[derive(Debug, Clone, Copy)]
pub enum ClassTarget<'a, T: Element> {
    /// One class index per sample.
    Indices(&'a [usize]),
    /// A label tensor of class indices (one dim fewer than the input) or of probabilities (the input's shape).
    Tensor(&'a Tensor<T>),
}

impl<'a, T: Element> From<&'a [usize]> for ClassTarget<'a, T> {
    fn from(indices: &'a [usize]) -> Self {
        ClassTarget::Indices(indices)
    }
}

impl<'a, T: Element, const N: usize> From<&'a [usize; N]> for ClassTarget<'a, T> {
    fn from(indices: &'a [usize; N]) -> Self {
        ClassTarget::Indices(indices)
    }
}

impl<'a, T: Element> From<&'a Vec<usize>> for ClassTarget<'a, T> {
    fn from(indices: &'a Vec<usize>) -> Self {
        ClassTarget::Indices(indices)
    }
}

impl<'a, T: Element> From<&'a Tensor<T>> for ClassTarget<'a, T> {
    fn from(target: &'a Tensor<T>) -> Self {
        ClassTarget::Tensor(target)
    }
}

/// A target read against its input.
enum Resolved<'a, T: Element> {
    Indices(Cow<'a, [usize]>),
    Probabilities(&'a Tensor<T>),
}

impl<'a, T: Element> ClassTarget<'a, T> {
    /// Class indices or probabilities, by the target's shape against `input`'s; each index checked to be a
    /// whole number >= 0 (the bound by the class count is checked with the weights).
    fn resolve(self, op: &'static str, input: &Tensor<T>) -> Result<Resolved<'a, T>> {
        let target = match self {
            ClassTarget::Indices(indices) => return Ok(Resolved::Indices(Cow::Borrowed(indices))),
            ClassTarget::Tensor(target) => target,
        };
        if target.shape() == input.shape() {
            return Ok(Resolved::Probabilities(target));
        }
        // Inputs are [N, C] or [C] (checked before): the classes are the last dim.
        if input.rank() > 0 && target.shape() == &input.shape()[..input.rank() - 1] {
            return class_indices(op, "target ", "row", target).map(|i| Resolved::Indices(Cow::Owned(i)));
        }
        Err(Error::shape(
            op,
            format!(
                "target of shape {:?} for input of shape {:?}: class indices have one dim fewer than the input \
                 ({:?}), probabilities the input's shape",
                target.shape(),
                input.shape(),
                &input.shape()[..input.rank().saturating_sub(1)]
            ),
        ))
    }
}

/// `(batch, classes)` of a `[N, C]` input, or `(1, C)` for an unbatched `[C]` one.
pub(super) fn batch_and_classes<T: Element>(op: &'static str, input: &Tensor<T>) -> Result<(usize, usize)> {
    match *input.shape() {
        [c] => Ok((1, c)),
        [n, c] => Ok((n, c)),
        _ => Err(Error::shape(op, format!("expected an input of shape [N, C] or [C], got {:?}", input.shape()))),
    }
}

/// Per-sample weights: `weight[t]`, or 1; 0 where the target is ignored. A target out of bounds is an
/// error naming its row.
pub(super) fn sample_weights<T: Element>(
    op: &'static str,
    target: &[usize],
    classes: usize,
    weight: Option<&Tensor<T>>,
    ignore_index: Option<usize>,
) -> Result<Vec<T>> {
    let class_weight = match weight {
        Some(w) if w.shape() != [classes] => {
            return Err(Error::shape(op, format!("weight of shape {:?} for {classes} classes", w.shape())));
        }
        Some(w) => Some(w.to_vec()?),
        None => None,
    };
    let mut weights = Vec::with_capacity(target.len());
    for (row, &t) in target.iter().enumerate() {
        if Some(t) == ignore_index {
            weights.push(T::zero());
            continue;
        }
        if t >= classes {
            return Err(Error::invalid(op, format!("target {t} at row {row} is out of bounds for {classes} classes")));
        }
        weights.push(class_weight.as_ref().map_or(T::one(), |w| w[t]));
    }
    Ok(weights)
}

/// The negative log-likelihood of class indices under log-probabilities `input` (`F.nll_loss`): `-w[t]
/// · input[n, t]`, whose mean divides by the sum of the weights of the samples not ignored. The target is
/// class indices, as a label tensor or a `usize` slice ([`ClassTarget`]).
///
/// ```
/// use torchlet::nn::{functional::nll_loss, Reduction};
/// use torchlet::Tensor;
/// let log_probs = Tensor::<f64>::new([[-0.5, -1.0], [-2.0, -0.1]]);
/// let loss = nll_loss(&log_probs, &Tensor::new([1.0, 0.0]), None, None, Reduction::Sum)?;
/// assert_eq!(loss.item()?, 3.0);
/// let err = nll_loss(&log_probs, &Tensor::new([1.0, 2.0]), None, None, Reduction::Sum).unwrap_err();
/// assert_eq!(err.to_string(), "nll_loss: target 2 at row 1 is out of bounds for 2 classes");
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn nll_loss<'a, T: Element>(
    input: &Tensor<T>,
    target: impl Into<ClassTarget<'a, T>>,
    weight: Option<&Tensor<T>>,
    ignore_index: Option<usize>,
    reduction: Reduction,
) -> Result<Tensor<T>> {
    const OP: &str = "nll_loss";
    batch_and_classes(OP, input)?;
    match target.into().resolve(OP, input)? {
        Resolved::Indices(target) => nll(OP, input, &target, weight, ignore_index, reduction),
        Resolved::Probabilities(p) => Err(Error::shape(
            OP,
            format!(
                "expected class indices of shape {:?} for input of shape {:?}, got a target of the input's \
                 shape (class probabilities are for cross_entropy)",
                &input.shape()[..input.rank() - 1],
                p.shape()
            ),
        )),
    }
}

/// `Σ losses / total`, `total` the weight of the samples not ignored, as torch's mean. When that weight is
/// 0 the loss is 0/0 = NaN, and torch's gradient follows the same arithmetic: each counted sample gets its
/// weight times 1/0, NaN for a weight of 0, while ignored samples, which its backward never visits, get 0
/// (every sample ignored: NaN loss, gradient 0).
fn mean_over<T: Element>(
    losses: &Tensor<T>,
    total: T,
    target: &[usize],
    ignore_index: Option<usize>,
) -> Result<Tensor<T>> {
    if total != T::zero() {
        return losses.sum()?.div_scalar(total);
    }
    let counted: Vec<usize> = (0..target.len()).filter(|&i| Some(target[i]) != ignore_index).collect();
    if counted.is_empty() {
        return losses.sum()?.mul_scalar(T::zero())?.add_scalar(T::nan());
    }
    losses.reshape(&[losses.numel()])?.index_select(0, &counted)?.sum()?.div_scalar(T::zero())
}

/// The cross-entropy of `input` logits against class indices or probabilities (`F.cross_entropy`), with
/// torch's defaults: no class weights, nothing ignored, mean, no label smoothing. [`CrossEntropyLoss`] sets
/// the options.
///
/// ```
/// use torchlet::nn::functional::cross_entropy;
/// use torchlet::Tensor;
/// let logits = Tensor::<f64>::new([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
/// let by_index = cross_entropy(&logits, &[0, 2][..])?.item()?;
/// let one_hot = Tensor::new([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
/// assert!((cross_entropy(&logits, &one_hot)?.item()? - by_index).abs() < 1e-15);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn cross_entropy<'a, T: Element>(input: &Tensor<T>, target: impl Into<ClassTarget<'a, T>>) -> Result<Tensor<T>> {
    CrossEntropyLoss::new().forward(input, target)
}

/// `nn.CrossEntropyLoss`: log-softmax over dim 1 (dim 0 for an unbatched input), then the negative
/// log-likelihood of the target, with class `weight`, `ignore_index` (class-index targets) and
/// `label_smoothing` ε, which mixes the target with the uniform distribution: `(1 - ε) target + ε / C`.
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyLoss<T: Element> {
    /// A weight per class (`weight=`).
    pub weight: Option<Tensor<T>>,
    /// A class index whose samples count for nothing (`ignore_index=`; torch's default -100 is `None`).
    pub ignore_index: Option<usize>,
    /// How the per-sample losses are reduced (mean by default).
    pub reduction: Reduction,
    /// ε in `[0, 1]`.
    pub label_smoothing: f64,
}

impl<T: Element> CrossEntropyLoss<T> {
    /// The loss with torch's defaults.
    pub fn new() -> Self {
        CrossEntropyLoss { weight: None, ignore_index: None, reduction: Reduction::Mean, label_smoothing: 0.0 }
    }

    /// The loss of logits `input` (`[N, C]` or `[C]`) against `target`.
    pub fn forward<'a>(&self, input: &Tensor<T>, target: impl Into<ClassTarget<'a, T>>) -> Result<Tensor<T>> {
        const OP: &str = "cross_entropy";
        let eps = self.label_smoothing;
        if !(0.0..=1.0).contains(&eps) {
            return Err(Error::invalid(OP, format!("label_smoothing must be between 0.0 and 1.0, got {eps}")));
        }
        let (_, classes) = batch_and_classes(OP, input)?;
        let class_dim = if input.rank() == 1 { 0 } else { 1 };
        let log_probs = input.log_softmax(class_dim)?;
        let c = T::from_usize(classes).unwrap_or_else(T::nan);
        let weight = self.weight.as_ref().map(|w| w.to(input.device())).transpose()?;
        if let Some(w) = &weight {
            if w.shape() != [classes] {
                return Err(Error::shape(OP, format!("weight of shape {:?} for {classes} classes", w.shape())));
            }
        }
        match target.into().resolve(OP, input)? {
            Resolved::Probabilities(p) => {
                check_same_shape(OP, input, p)?;
                let mut p = p.detach();
                if eps > 0.0 {
                    p = p.mul_scalar(T::from_f64_lossy(1.0 - eps))?.add_scalar(T::from_f64_lossy(eps) / c)?;
                }
                let mut terms = log_probs.mul(&p)?;
                if let Some(w) = &weight {
                    terms = terms.mul(w)?;
                }
                match self.reduction {
                    Reduction::None => terms.sum_dim(class_dim, false)?.neg(),
                    Reduction::Sum => terms.sum()?.neg(),
                    Reduction::Mean => {
                        let n = T::from_usize(input.numel() / classes.max(1)).unwrap_or_else(T::nan);
                        terms.sum()?.neg()?.div_scalar(if input.numel() == 0 { T::nan() } else { n })
                    }
                }
            }
            Resolved::Indices(t) => {
                let nll = nll(OP, &log_probs, &t, weight.as_ref(), self.ignore_index, self.reduction)?;
                if eps == 0.0 {
                    return Ok(nll);
                }
                self.smoothed(nll, &log_probs, &t, weight.as_ref(), class_dim, c)
            }
        }
    }

    /// torch's label smoothing for class indices: `(1 - ε) nll + ε / C · smooth`, where `smooth` is
    /// `-Σ_c w_c log p_c` per sample (0 where ignored), reduced with nll's denominator.
    fn smoothed(
        &self,
        nll: Tensor<T>,
        log_probs: &Tensor<T>,
        target: &[usize],
        weight: Option<&Tensor<T>>,
        class_dim: isize,
        c: T,
    ) -> Result<Tensor<T>> {
        let (n, classes) = batch_and_classes("cross_entropy", log_probs)?;
        let sample_w = sample_weights("cross_entropy", target, classes, weight, self.ignore_index)?;
        let keep: Vec<T> =
            target.iter().map(|&t| if Some(t) == self.ignore_index { T::zero() } else { T::one() }).collect();
        let keep_t =
            Tensor::from_vec(keep, &[n])?.to(log_probs.device())?.reshape(&log_probs.shape()[..class_dim as usize])?;
        let weighted = match weight {
            Some(w) => log_probs.mul(w)?,
            None => log_probs.clone(),
        };
        let smooth = weighted.sum_dim(class_dim, false)?.neg()?.mul(&keep_t)?;
        let smooth = match self.reduction {
            Reduction::None => smooth,
            Reduction::Sum => smooth.sum()?,
            Reduction::Mean => {
                let total = sample_w.iter().fold(T::zero(), |s, &w| s + w);
                mean_over(&smooth, total, target, self.ignore_index)?
            }
        };
        let eps = T::from_f64_lossy(self.label_smoothing);
        nll.mul_scalar(T::one() - eps)?.add(&smooth.mul_scalar(eps / c)?)
    }
}

/// The gradient of binary cross-entropy, torch's: `g · (x - y) / max((1 - x) x, 1e-12)` for the input and
/// `g · (max(ln(1 - x), -100) - max(ln x, -100))` for the target, times the weight.
struct BceBackward<T: Element> {
    input: Saved<T>,
    target: Saved<T>,
    weight: Option<Tensor<T>>,
    reduction: Reduction,
}

impl<T: Element> BackwardOp<T> for BceBackward<T> {
    fn backward(&self, grad: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (x, y) = (self.input.get("BinaryCrossEntropyBackward0")?, self.target.get("BinaryCrossEntropyBackward0")?);
        let mut g = grad.clone();
        if self.reduction == Reduction::Mean {
            g = g.div_scalar(T::from_usize(x.numel()).unwrap_or_else(T::nan))?;
        }
        if let Some(w) = &self.weight {
            g = g.mul(w)?;
        }
        let dx = needs[0]
            .then(|| {
                let denom = x.rsub_scalar(T::one())?.mul(x)?.clamp_min(T::from_f64_lossy(1e-12))?;
                g.mul(&x.sub(y)?)?.div(&denom)?.expand(x.shape())?.contiguous()
            })
            .transpose()?;
        let dy = needs[1]
            .then(|| {
                let floor = T::from_f64_lossy(-100.0);
                let diff = x.neg()?.log1p()?.clamp_min(floor)?.sub(&x.log()?.clamp_min(floor)?)?;
                g.mul(&diff)?.expand(x.shape())?.contiguous()
            })
            .transpose()?;
        Ok(smallvec![dx, dy])
    }

    /// The backward above is made of recorded ops of the saved operands: it builds the graph as it is. Its
    /// derivative is that of `(x − y) / max((1 − x) x, 1e-12)`, where torch's hand-written double backward
    /// divides by `(x + 1e-12)² (1 − x + 1e-12)²` instead: the two agree to about 1e-12 relative inside
    /// (0, 1).
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

/// Binary cross-entropy of probabilities `input` in `[0, 1]` against `target` (`F.binary_cross_entropy`):
/// `-w (y ln x + (1 - y) ln(1 - x))`, each log clamped at -100 as torch does, so 0 and 1 give finite losses.
pub fn binary_cross_entropy<T: Element>(
    input: &Tensor<T>,
    target: &Tensor<T>,
    weight: Option<&Tensor<T>>,
    reduction: Reduction,
) -> Result<Tensor<T>> {
    const OP: &str = "binary_cross_entropy";
    check_same_shape(OP, input, target)?;
    let bad = match input.device() {
        // On the host, a scan names the first offending value.
        Device::Cpu => input.to_vec()?.into_iter().find(|&v| !is_probability(v)),
        Device::Cuda(_) => out_of_range_by_extremes(input)?,
    };
    if let Some(bad) = bad {
        return Err(Error::invalid(OP, format!("all elements of input should be between 0 and 1, found {bad}")));
    }
    let losses = no_grad(|| -> Result<Tensor<T>> {
        let (x, y) = (input.detach(), target.detach());
        let floor = T::from_f64_lossy(-100.0);
        let log_not = x.neg()?.log1p()?.clamp_min(floor)?;
        let log_x = x.log()?.clamp_min(floor)?;
        let mut l = y.sub_scalar(T::one())?.mul(&log_not)?.sub(&y.mul(&log_x)?)?;
        if let Some(w) = weight {
            l = l.mul(w)?;
        }
        reduce(l, reduction)
    })?;
    let weight = weight.cloned();
    Ok(record("BinaryCrossEntropyBackward0", losses, &[input, target], |_| BceBackward {
        input: Saved::input(input),
        target: Saved::input(target),
        weight,
        reduction,
    }))
}

/// `0 ≤ v ≤ 1`, false for NaN.
fn is_probability<T: Element>(v: T) -> bool {
    v >= T::zero() && v <= T::one()
}

/// A value of `input` outside [0, 1], if there is one, from its minimum and maximum: two reductions where the
/// tensor lives and two scalars to the host, instead of the whole input on every forward. A NaN wins both
/// reductions, so it is found too; the value named is an extreme one rather than the first.
fn out_of_range_by_extremes<T: Element>(input: &Tensor<T>) -> Result<Option<T>> {
    if input.numel() == 0 {
        return Ok(None);
    }
    let x = input.detach();
    let (lo, hi) = (x.min()?.item()?, x.max()?.item()?);
    Ok([lo, hi].into_iter().find(|&v| !is_probability(v)))
}

/// The gradient of `binary_cross_entropy_with_logits`, torch's: `g ((p y + 1 - y) σ(x) - p y)` (p = 1
/// without `pos_weight`), times the weight.
struct BceLogitsBackward<T: Element> {
    input: Saved<T>,
    target: Tensor<T>,
    weight: Option<Tensor<T>>,
    pos_weight: Option<Tensor<T>>,
    reduction: Reduction,
}

impl<T: Element> BackwardOp<T> for BceLogitsBackward<T> {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let (x, y) = (self.input.get("BinaryCrossEntropyWithLogitsBackward0")?, &self.target);
        let s = x.sigmoid()?;
        let mut d = match &self.pos_weight {
            Some(p) => {
                let t = p.mul(y)?;
                t.add_scalar(T::one())?.sub(y)?.mul(&s)?.sub(&t)?
            }
            None => s.sub(y)?,
        };
        d = d.mul(grad)?;
        if let Some(w) = &self.weight {
            d = d.mul(w)?;
        }
        if self.reduction == Reduction::Mean {
            d = d.div_scalar(T::from_usize(x.numel()).unwrap_or_else(T::nan))?;
        }
        Ok(smallvec![Some(d.expand(x.shape())?.contiguous()?)])
    }

    /// The backward above is made of recorded ops of the saved input: it builds the graph as it is.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

/// Binary cross-entropy on logits (`F.binary_cross_entropy_with_logits`), computed stably as
/// `(1 - y) x + (1 + (p - 1) y) (ln(1 + e^{-|x|}) + max(-x, 0))`, never through `ln σ(x)`. `pos_weight`
/// (one per class, the last dim) weighs the positive term.
pub fn binary_cross_entropy_with_logits<T: Element>(
    input: &Tensor<T>,
    target: &Tensor<T>,
    weight: Option<&Tensor<T>>,
    pos_weight: Option<&Tensor<T>>,
    reduction: Reduction,
) -> Result<Tensor<T>> {
    check_same_shape("binary_cross_entropy_with_logits", input, target)?;
    let losses = no_grad(|| -> Result<Tensor<T>> {
        let (x, y) = (input.detach(), target.detach());
        let softplus_neg = x.abs()?.neg()?.exp()?.log1p()?.add(&x.neg()?.clamp_min(T::zero())?)?;
        let log_weight = match pos_weight {
            Some(p) => p.sub_scalar(T::one())?.mul(&y)?.add_scalar(T::one())?,
            None => Tensor::full_on(&[], T::one(), x.device())?,
        };
        let mut l = y.rsub_scalar(T::one())?.mul(&x)?.add(&log_weight.mul(&softplus_neg)?)?;
        if let Some(w) = weight {
            l = l.mul(w)?;
        }
        reduce(l, reduction)
    })?;
    let (weight, pos_weight, target) = (weight.cloned(), pos_weight.cloned(), target.detach());
    Ok(record("BinaryCrossEntropyWithLogitsBackward0", losses, &[input], |_| BceLogitsBackward {
        input: Saved::input(input),
        target,
        weight,
        pos_weight,
        reduction,
    }))
}

/// `nn.BCELoss`: binary cross-entropy of probabilities, with an optional weight.
#[derive(Debug, Clone, Default)]
pub struct BCELoss<T: Element> {
    /// A weight broadcast over the elementwise losses.
    pub weight: Option<Tensor<T>>,
    /// How the elementwise losses are reduced (mean by default).
    pub reduction: Reduction,
}

impl<T: Element> BCELoss<T> {
    /// The loss with mean reduction and no weight.
    pub fn new() -> Self {
        BCELoss { weight: None, reduction: Reduction::Mean }
    }

    /// The loss of probabilities `input` against `target`.
    pub fn forward(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        binary_cross_entropy(input, target, self.weight.as_ref(), self.reduction)
    }
}

/// `nn.BCEWithLogitsLoss`: binary cross-entropy of logits, with optional `weight` and `pos_weight`.
#[derive(Debug, Clone, Default)]
pub struct BCEWithLogitsLoss<T: Element> {
    /// A weight broadcast over the elementwise losses.
    pub weight: Option<Tensor<T>>,
    /// A weight of the positive term per class (the last dim).
    pub pos_weight: Option<Tensor<T>>,
    /// How the elementwise losses are reduced (mean by default).
    pub reduction: Reduction,
}

impl<T: Element> BCEWithLogitsLoss<T> {
    /// The loss with mean reduction and no weights.
    pub fn new() -> Self {
        BCEWithLogitsLoss { weight: None, pos_weight: None, reduction: Reduction::Mean }
    }

    /// The loss of logits `input` against `target`.
    pub fn forward(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        binary_cross_entropy_with_logits(input, target, self.weight.as_ref(), self.pos_weight.as_ref(), self.reduction)
    }
}

/// `nn.NLLLoss`: the negative log-likelihood of class indices under log-probabilities.
#[derive(Debug, Clone, Default)]
pub struct NLLLoss<T: Element> {
    /// A weight per class.
    pub weight: Option<Tensor<T>>,
    /// A class index whose samples count for nothing.
    pub ignore_index: Option<usize>,
    /// How the per-sample losses are reduced (mean by default).
    pub reduction: Reduction,
}

impl<T: Element> NLLLoss<T> {
    /// The loss with torch's defaults.
    pub fn new() -> Self {
        NLLLoss { weight: None, ignore_index: None, reduction: Reduction::Mean }
    }

    /// The loss of log-probabilities `input` against class indices `target`.
    pub fn forward<'a>(&self, input: &Tensor<T>, target: impl Into<ClassTarget<'a, T>>) -> Result<Tensor<T>> {
        nll_loss(input, target, self.weight.as_ref(), self.ignore_index, self.reduction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_check_by_extremes_finds_what_the_scan_finds() {
        let found = |v: &[f64]| out_of_range_by_extremes(&Tensor::from_slice(v, &[v.len()]).unwrap()).unwrap();
        assert_eq!(found(&[0.0, 0.5, 1.0]), None);
        assert_eq!(found(&[]), None);
        assert_eq!(found(&[0.2, 1.5, -0.5, 0.7]), Some(-0.5), "the minimum first");
        assert_eq!(found(&[0.2, 1.5, 1.25]), Some(1.5));
        assert!(found(&[0.2, f64::NAN, 0.7]).is_some_and(f64::is_nan));
        let strided = Tensor::<f32>::new([[0.5, 3.0], [0.25, 0.75]]).t().unwrap().narrow(0, 0, 1).unwrap();
        assert_eq!(out_of_range_by_extremes(&strided).unwrap(), None, "only the view's elements count");
    }
}
