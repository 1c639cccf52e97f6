//! torch's `OneCycleLR` with its defaults, written out as a function of the step: what the scratch model and
//! the libtorch twin set before every update (the autograd model uses the library's `OneCycleLR`, so the
//! parity tests also check the one against the other).

use std::f64::consts::PI;

/// The learning rate and Adam's β1 of torch's `OneCycleLR(opt, max_lr, total_steps)` with the defaults
/// (`pct_start=0.3`, cosine annealing, `div_factor=25`, `final_div_factor=1e4`, momentum cycled between 0.95
/// and 0.85, two phases).
///
/// ```
/// use torchlet_tutorials::resnet::OneCycle;
/// let schedule = OneCycle::new(0.01, 96);
/// let (lr, beta1) = schedule.at(0);
/// assert!((lr - 0.01 / 25.0).abs() < 1e-17 && (beta1 - 0.95).abs() < 1e-15);
/// // The peak at step pct_start·96 − 1 = 27.8 falls between steps 27 and 28.
/// assert!(schedule.at(27).0 < 0.01 && schedule.at(28).0 < 0.01 && schedule.at(27).0 > 0.0099);
/// assert!((schedule.at(95).0 - 0.01 / 25.0 / 1e4).abs() < 1e-18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneCycle {
    max_lr: f64,
    total_steps: usize,
}

/// torch's defaults.
const PCT_START: f64 = 0.3;
const DIV_FACTOR: f64 = 25.0;
const FINAL_DIV_FACTOR: f64 = 1e4;
const BASE_MOMENTUM: f64 = 0.85;
const MAX_MOMENTUM: f64 = 0.95;

/// torch's `_annealing_cos`, in its order of operations, so that f64 agrees to the bit.
fn anneal(start: f64, end: f64, pct: f64) -> f64 {
    let cos_out = (PI * pct).cos() + 1.0;
    end + (start - end) / 2.0 * cos_out
}

impl OneCycle {
    /// The cycle of `total_steps` steps (`epochs · steps_per_epoch`) peaking at `max_lr`.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycle { max_lr, total_steps }
    }

    /// `(lr, β1)` for the update at `step` (counted from 0), as torch's `get_lr` gives them after `step` calls
    /// of `sched.step()`.
    pub fn at(&self, step: usize) -> (f64, f64) {
        let initial = self.max_lr / DIV_FACTOR;
        let min = initial / FINAL_DIV_FACTOR;
        // torch's phases: up to `pct_start·total − 1`, then down to `total − 1`.
        let up_end = PCT_START * self.total_steps as f64 - 1.0;
        let down_end = self.total_steps as f64 - 1.0;
        let step = step as f64;
        if step <= up_end {
            let pct = step / up_end;
            (anneal(initial, self.max_lr, pct), anneal(MAX_MOMENTUM, BASE_MOMENTUM, pct))
        } else {
            let pct = (step - up_end) / (down_end - up_end);
            (anneal(self.max_lr, min, pct), anneal(BASE_MOMENTUM, MAX_MOMENTUM, pct))
        }
    }
}
