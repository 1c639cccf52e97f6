//! Schedulers that multiply the learning rate by `gamma`: every `step_size` epochs, at milestones, or
//! every epoch.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::optim::Optimizer;

use super::{chainable, check_factor, LRScheduler, Progress};

/// Multiplies the learning rate by `gamma` every `step_size` epochs (`lr_scheduler.StepLR`).
///
/// Chainable form, as torch's: at epochs that are non-zero multiples of `step_size`, `lr = lr·gamma`;
/// otherwise the learning rate is left as it is. Set alone, that is `base_lr·gamma^⌊epoch/step_size⌋`
/// up to rounding (torch's `_get_closed_form_lr`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    progress: Progress,
}

impl StepLR {
    /// `StepLR(opt, step_size, gamma)`; fails for `step_size` 0 (torch divides by it) and a `gamma` that
    /// is negative or not finite.
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(opt: &mut O, step_size: usize, gamma: f64) -> Result<Self> {
        if step_size == 0 {
            return Err(Error::invalid("StepLR", "invalid step_size: 0 (must be >= 1)"));
        }
        check_factor("StepLR", "gamma", gamma)?;
        let progress = Progress::start(opt, Ok)?;
        Ok(StepLR { step_size, gamma, progress })
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        Ok(if epoch % self.step_size == 0 { lr * self.gamma } else { lr })
    }
}

chainable!(StepLR);

/// Multiplies the learning rate by `gamma` at each milestone epoch (`lr_scheduler.MultiStepLR`).
///
/// Chainable form, as torch's: at an epoch listed `n` times in `milestones`, `lr = lr·gamma^n` (Python's
/// `**`, C's `pow`); otherwise the learning rate is left as it is. Set alone, that is
/// `base_lr·gamma^(milestones passed)` up to rounding.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepLR {
    milestones: Vec<usize>,
    gamma: f64,
    progress: Progress,
}

impl MultiStepLR {
    /// `MultiStepLR(opt, milestones, gamma)`; the milestones may come in any order and repeat, as torch's
    /// `Counter` of them allows. Fails for a `gamma` that is negative or not finite.
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(
        opt: &mut O,
        milestones: impl IntoIterator<Item = usize>,
        gamma: f64,
    ) -> Result<Self> {
        check_factor("MultiStepLR", "gamma", gamma)?;
        let milestones: Vec<usize> = milestones.into_iter().collect();
        // Epoch 0 is a milestone like any other in torch: its initial step applies it.
        let progress = Progress::start(opt, |lr| Ok(decay(&milestones, gamma, lr, 0)))?;
        Ok(MultiStepLR { milestones, gamma, progress })
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        Ok(decay(&self.milestones, self.gamma, lr, epoch))
    }
}

chainable!(MultiStepLR);

/// torch's `MultiStepLR.get_lr` at `epoch`: `lr·gamma^n` for a milestone listed `n` times.
fn decay(milestones: &[usize], gamma: f64, lr: f64, epoch: usize) -> f64 {
    let hits = milestones.iter().filter(|&&m| m == epoch).count();
    if hits == 0 {
        lr
    } else {
        lr * gamma.powf(hits as f64)
    }
}

/// Multiplies the learning rate by `gamma` every epoch (`lr_scheduler.ExponentialLR`).
///
/// Chainable form, as torch's: `lr = lr·gamma` at every step after the initial one, which is
/// `base_lr·gamma^epoch` up to rounding when set alone.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialLR {
    gamma: f64,
    progress: Progress,
}

impl ExponentialLR {
    /// `ExponentialLR(opt, gamma)`; fails for a `gamma` that is negative or not finite.
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(opt: &mut O, gamma: f64) -> Result<Self> {
        check_factor("ExponentialLR", "gamma", gamma)?;
        let progress = Progress::start(opt, Ok)?;
        Ok(ExponentialLR { gamma, progress })
    }

    fn next_lr(&self, lr: f64, _epoch: usize) -> Result<f64> {
        Ok(lr * self.gamma)
    }
}

chainable!(ExponentialLR);
