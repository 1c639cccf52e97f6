//! Cosine annealing from the initial learning rate down to `eta_min` over `T_max` epochs.

use std::f64::consts::PI;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::optim::state_dict::{put, Reader, StateDict};
use crate::optim::Optimizer;

use super::{chainable, check_factor, LRScheduler, OwnState, Progress};

/// Anneals the learning rate along a cosine from its initial value to `eta_min` in `t_max` epochs, and
/// back up over the next `t_max`, and so on (`lr_scheduler.CosineAnnealingLR`).
///
/// Recursive (chainable) form, as torch's: at epoch `e`,
/// `lr = (1 + cos(π·e/T)) / (1 + cos(π·(e−1)/T))·(lr − eta_min) + eta_min`, except where the denominator
/// would vanish (`(e − 1 − T) mod 2T = 0`), where torch adds `(base_lr − eta_min)·(1 − cos(π/T))/2`.
/// Set alone, that follows the closed form `eta_min + (base_lr − eta_min)·(1 + cos(π·e/T))/2` up to
/// rounding, and carries torch's rounding step to step. Its state dict adds `T_max` and `eta_min`.
///
/// ```
/// use torchlet::optim::lr_scheduler::{CosineAnnealingLR, LRScheduler};
/// use torchlet::optim::SGD;
/// use torchlet::Tensor;
///
/// let mut opt = SGD::new([Tensor::<f32>::zeros(&[2]).requires_grad_(true)?], 0.1)?;
/// let mut scheduler = CosineAnnealingLR::new(&mut opt, 4, 0.0)?;
/// let mut lrs = vec![scheduler.get_last_lr()];
/// for _ in 0..4 {
///     // opt.step() would come first, in a real loop
///     scheduler.step(&mut opt)?;
///     lrs.push(scheduler.get_last_lr());
/// }
/// let closed: Vec<f64> = (0..=4).map(|e| 0.1 * (1.0 + (std::f64::consts::PI * e as f64 / 4.0).cos()) / 2.0).collect();
/// assert!(lrs.iter().zip(&closed).all(|(a, b)| (a - b).abs() < 1e-15));
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    progress: Progress,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(opt, T_max, eta_min)`; fails for `t_max` 0 (torch divides by it) and an
    /// `eta_min` that is negative or not finite.
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(opt: &mut O, t_max: usize, eta_min: f64) -> Result<Self> {
        Self::check("CosineAnnealingLR", t_max, eta_min)?;
        let progress = Progress::start(opt, Ok)?;
        Ok(CosineAnnealingLR { t_max, eta_min, progress })
    }

    fn check(op: &'static str, t_max: usize, eta_min: f64) -> Result<()> {
        if t_max == 0 {
            return Err(Error::invalid(op, "invalid T_max: 0 (must be >= 1)"));
        }
        check_factor(op, "eta_min", eta_min)
    }

    fn next_lr(&self, lr: f64, epoch: usize) -> Result<f64> {
        let (e, t) = (epoch as f64, self.t_max as f64);
        // Python's `%` is floored, so a negative left side still lands in [0, 2T).
        let at_trough = (epoch as i128 - 1 - self.t_max as i128).rem_euclid(2 * self.t_max as i128) == 0;
        Ok(if at_trough {
            lr + (self.progress.base_lr - self.eta_min) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * e / t).cos()) / (1.0 + (PI * (e - 1.0) / t).cos()) * (lr - self.eta_min) + self.eta_min
        })
    }
}

chainable!(CosineAnnealingLR);

impl OwnState for CosineAnnealingLR {
    const NAME: &'static str = "CosineAnnealingLR";
    const LOAD: &'static str = "CosineAnnealingLR::load_state_dict";
    const KEYS: &'static [&'static str] = &["T_max", "eta_min"];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        put(state, "T_max", self.t_max);
        put(state, "eta_min", self.eta_min);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let (t_max, eta_min) = (r.usize("T_max")?, r.f64("eta_min")?);
        Self::check(Self::LOAD, t_max, eta_min)?;
        Ok(CosineAnnealingLR { t_max, eta_min, progress })
    }
}
