//! Schedulers that multiply the learning rate by `gamma`: every `step_size` epochs, at milestones, or
//! every epoch.

use std::collections::BTreeMap;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::optim::state_dict::{put, Reader, StateDict};
use crate::optim::Optimizer;

use super::{chainable, check_factor, LRScheduler, OwnState, Progress};

/// Multiplies the learning rate by `gamma` every `step_size` epochs (`lr_scheduler.StepLR`).
///
/// Chainable form, as torch's: at epochs that are non-zero multiples of `step_size`, `lr = lr·gamma`;
/// otherwise the learning rate is left as it is. Set alone, that is `base_lr·gamma^⌊epoch/step_size⌋`
/// up to rounding (torch's `_get_closed_form_lr`). Its state dict adds `step_size` and `gamma`.
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
        Self::check("StepLR", step_size, gamma)?;
        let progress = Progress::start(opt, Ok)?;
        Ok(StepLR { step_size, gamma, progress })
    }

    fn check(op: &'static str, step_size: usize, gamma: f64) -> Result<()> {
        if step_size == 0 {
            return Err(Error::invalid(op, "invalid step_size: 0 (must be >= 1)"));
        }
        check_factor(op, "gamma", gamma)
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        Ok(if epoch.is_multiple_of(self.step_size) { lr * self.gamma } else { lr })
    }
}

chainable!(StepLR);

impl OwnState for StepLR {
    const NAME: &'static str = "StepLR";
    const LOAD: &'static str = "StepLR::load_state_dict";
    const KEYS: &'static [&'static str] = &["step_size", "gamma"];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        put(state, "step_size", self.step_size);
        put(state, "gamma", self.gamma);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let (step_size, gamma) = (r.usize("step_size")?, r.f64("gamma")?);
        Self::check(Self::LOAD, step_size, gamma)?;
        Ok(StepLR { step_size, gamma, progress })
    }
}

/// Multiplies the learning rate by `gamma` at each milestone epoch (`lr_scheduler.MultiStepLR`).
///
/// Chainable form, as torch's: at an epoch listed `n` times in `milestones`, `lr = lr·gamma^n` (Python's
/// `**`, C's `pow`); otherwise the learning rate is left as it is. Set alone, that is
/// `base_lr·gamma^(milestones passed)` up to rounding. Its state dict adds `gamma` and `milestones`, torch's
/// `Counter` of them as a dict from the epoch (a string, as JSON keys are) to its count.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepLR {
    /// How often each epoch was listed (torch's `Counter`).
    milestones: BTreeMap<usize, u64>,
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
        let mut counter = BTreeMap::new();
        milestones.into_iter().for_each(|m| *counter.entry(m).or_insert(0) += 1);
        let milestones = counter;
        // Epoch 0 is a milestone like any other in torch: its initial step applies it.
        let progress = Progress::start(opt, |lr| Ok(decay(&milestones, gamma, lr, 0)))?;
        Ok(MultiStepLR { milestones, gamma, progress })
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        Ok(decay(&self.milestones, self.gamma, lr, epoch))
    }
}

chainable!(MultiStepLR);

impl OwnState for MultiStepLR {
    const NAME: &'static str = "MultiStepLR";
    const LOAD: &'static str = "MultiStepLR::load_state_dict";
    const KEYS: &'static [&'static str] = &["milestones", "gamma"];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        let mut counter = StateDict::new();
        self.milestones.iter().for_each(|(m, &count)| put(&mut counter, &m.to_string(), count));
        put(state, "milestones", counter);
        put(state, "gamma", self.gamma);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let gamma = r.f64("gamma")?;
        check_factor(Self::LOAD, "gamma", gamma)?;
        let counter = r.value("milestones")?;
        let Some(counter) = counter.as_object() else {
            return Err(r.invalid("milestones", format!("expected a dict from epoch to count, but got {counter}")));
        };
        let mut milestones = BTreeMap::new();
        for (epoch, count) in counter {
            let (Ok(epoch), Some(count)) = (epoch.parse::<usize>(), count.as_u64().filter(|&c| c >= 1)) else {
                return Err(r.invalid(
                    "milestones",
                    format!("entry {epoch:?}: {count} is not a count >= 1 of a whole epoch >= 0"),
                ));
            };
            // "03" and "3" are one epoch: their counts add up.
            let total: &mut u64 = milestones.entry(epoch).or_insert(0);
            *total = total.saturating_add(count);
        }
        Ok(MultiStepLR { milestones, gamma, progress })
    }
}

/// torch's `MultiStepLR.get_lr` at `epoch`: `lr·gamma^n` for a milestone listed `n` times.
fn decay(milestones: &BTreeMap<usize, u64>, gamma: f64, lr: f64, epoch: usize) -> f64 {
    match milestones.get(&epoch) {
        None => lr,
        Some(&hits) => lr * gamma.powf(hits as f64),
    }
}

/// Multiplies the learning rate by `gamma` every epoch (`lr_scheduler.ExponentialLR`).
///
/// Chainable form, as torch's: `lr = lr·gamma` at every step after the initial one, which is
/// `base_lr·gamma^epoch` up to rounding when set alone. Its state dict adds `gamma`.
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

impl OwnState for ExponentialLR {
    const NAME: &'static str = "ExponentialLR";
    const LOAD: &'static str = "ExponentialLR::load_state_dict";
    const KEYS: &'static [&'static str] = &["gamma"];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        put(state, "gamma", self.gamma);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let gamma = r.f64("gamma")?;
        check_factor(Self::LOAD, "gamma", gamma)?;
        Ok(ExponentialLR { gamma, progress })
    }
}
