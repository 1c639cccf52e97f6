//! Regression losses beyond MSE: `L1Loss`, `HuberLoss` and `SmoothL1Loss`, with torch's reductions.

use super::loss::{check_same_shape, reduce, Reduction};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::ops::where_;
use crate::tensor::Tensor;

/// `|input - target|`, reduced (`F.l1_loss`).
pub fn l1_loss<T: Element>(input: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Result<Tensor<T>> {
    check_same_shape("l1_loss", input, target)?;
    reduce(input.sub(target)?.abs()?, reduction)
}

/// Quadratic below `delta`, linear above: `½d²` where `|d| < δ`, else `δ(|d| - ½δ)` (`F.huber_loss`).
pub fn huber_loss<T: Element>(
    input: &Tensor<T>,
    target: &Tensor<T>,
    reduction: Reduction,
    delta: f64,
) -> Result<Tensor<T>> {
    check_same_shape("huber_loss", input, target)?;
    if delta.is_nan() || delta <= 0.0 {
        return Err(Error::invalid(
            "huber_loss",
            format!("huber_loss does not support non-positive values for delta ({delta})"),
        ));
    }
    let (d, delta) = (input.sub(target)?, T::from_f64_lossy(delta));
    let abs = d.abs()?;
    let half = T::from_f64_lossy(0.5);
    let quadratic = d.square()?.mul_scalar(half)?;
    let linear = abs.sub_scalar(half * delta)?.mul_scalar(delta)?;
    let inside = abs.lt(&Tensor::full_on(&[], delta, d.device())?)?;
    reduce(where_(&inside, &quadratic, &linear)?, reduction)
}

/// `½d²/β` where `|d| < β`, else `|d| - ½β` (`F.smooth_l1_loss`); β = 0 is the L1 loss.
pub fn smooth_l1_loss<T: Element>(
    input: &Tensor<T>,
    target: &Tensor<T>,
    reduction: Reduction,
    beta: f64,
) -> Result<Tensor<T>> {
    check_same_shape("smooth_l1_loss", input, target)?;
    if beta.is_nan() || beta < 0.0 {
        return Err(Error::invalid(
            "smooth_l1_loss",
            format!("smooth_l1_loss does not support negative values for beta ({beta})"),
        ));
    }
    if beta == 0.0 {
        return l1_loss(input, target, reduction);
    }
    let (d, beta) = (input.sub(target)?, T::from_f64_lossy(beta));
    let abs = d.abs()?;
    let half = T::from_f64_lossy(0.5);
    let quadratic = d.square()?.mul_scalar(half)?.div_scalar(beta)?;
    let linear = abs.sub_scalar(half * beta)?;
    let inside = abs.lt(&Tensor::full_on(&[], beta, d.device())?)?;
    reduce(where_(&inside, &quadratic, &linear)?, reduction)
}

/// `nn.L1Loss`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Loss {
    /// How the elementwise losses are reduced (mean by default).
    pub reduction: Reduction,
}

impl L1Loss {
    /// The loss with mean reduction.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loss of `input` against `target`.
    pub fn forward<T: Element>(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        l1_loss(input, target, self.reduction)
    }
}

/// `nn.HuberLoss(delta=1.0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberLoss {
    /// How the elementwise losses are reduced (mean by default).
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub delta: f64,
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss { reduction: Reduction::Mean, delta: 1.0 }
    }
}

impl HuberLoss {
    /// The loss with mean reduction and δ = 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loss of `input` against `target`.
    pub fn forward<T: Element>(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        huber_loss(input, target, self.reduction, self.delta)
    }
}

/// `nn.SmoothL1Loss(beta=1.0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothL1Loss {
    /// How the elementwise losses are reduced (mean by default).
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub beta: f64,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss { reduction: Reduction::Mean, beta: 1.0 }
    }
}

impl SmoothL1Loss {
    /// The loss with mean reduction and β = 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loss of `input` against `target`.
    pub fn forward<T: Element>(&self, input: &Tensor<T>, target: &Tensor<T>) -> Result<Tensor<T>> {
        smooth_l1_loss(input, target, self.reduction, self.beta)
    }
}
