//! A linear ramp of the learning rate's factor over the first epochs.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::optim::state_dict::{put, Reader, StateDict};
use crate::optim::Optimizer;

use super::{chainable, LRScheduler, OwnState, Progress};

/// Scales the learning rate by a factor that moves linearly from `start_factor` to `end_factor` over
/// `total_iters` epochs, then stays (`lr_scheduler.LinearLR`, warm-up by default).
///
/// Chainable form, as torch's: the initial step sets `lr·start_factor`; at epoch `1 ≤ e ≤ total_iters`,
/// `lr = lr·(1 + (end − start) / (total_iters·start + (e − 1)·(end − start)))`; later the learning rate is
/// left as it is. Set alone, that is `base_lr·(start + (end − start)·min(e, total_iters)/total_iters)` up
/// to rounding. Its state dict adds `start_factor`, `end_factor` and `total_iters`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearLR {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
    progress: Progress,
}

impl LinearLR {
    /// `LinearLR(opt, start_factor, end_factor, total_iters)` (torch's defaults are 1/3, 1.0 and 5); fails
    /// as torch does for a `start_factor` outside (0, 1] or an `end_factor` outside [0, 1].
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(
        opt: &mut O,
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Result<Self> {
        Self::check("LinearLR", start_factor, end_factor)?;
        let progress = Progress::start(opt, |lr| Ok(lr * start_factor))?;
        Ok(LinearLR { start_factor, end_factor, total_iters, progress })
    }

    fn check(op: &'static str, start_factor: f64, end_factor: f64) -> Result<()> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(Error::invalid(
                op,
                format!("invalid start_factor: {start_factor} (expected greater than 0 and less or equal to 1)"),
            ));
        }
        if !(0.0..=1.0).contains(&end_factor) {
            return Err(Error::invalid(op, format!("invalid end_factor: {end_factor} (expected between 0 and 1)")));
        }
        Ok(())
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        if epoch > self.total_iters {
            return Ok(lr);
        }
        let (start, end) = (self.start_factor, self.end_factor);
        let done = self.total_iters as f64 * start + (epoch - 1) as f64 * (end - start);
        Ok(lr * (1.0 + (end - start) / done))
    }
}

chainable!(LinearLR);

impl OwnState for LinearLR {
    const NAME: &'static str = "LinearLR";
    const LOAD: &'static str = "LinearLR::load_state_dict";
    const KEYS: &'static [&'static str] = &["start_factor", "end_factor", "total_iters"];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        put(state, "start_factor", self.start_factor);
        put(state, "end_factor", self.end_factor);
        put(state, "total_iters", self.total_iters);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let (start_factor, end_factor) = (r.f64("start_factor")?, r.f64("end_factor")?);
        Self::check(Self::LOAD, start_factor, end_factor)?;
        Ok(LinearLR { start_factor, end_factor, total_iters: r.usize("total_iters")?, progress })
    }
}
