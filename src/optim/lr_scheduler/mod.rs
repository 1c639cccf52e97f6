//! Learning-rate schedulers in the shape of `torch.optim.lr_scheduler`, with torch's own formulas.
//!
//! Most of torch's schedulers are "chainable": each step computes the new learning rate from the
//! optimizer's current one (`group["lr"] * gamma`, a ratio of cosines, ...), not from a closed form in the
//! epoch, so a learning rate changed from outside between steps carries on, and the values carry torch's
//! rounding step to step. These do the same, with the same f64 arithmetic in the same order; the scalar
//! functions (`cos`, `pow`) are the C library's, as Python's `math` module calls them. Each type's docs
//! name the form it uses. As in torch, making a scheduler performs its first step (epoch 0), which may
//! already change the learning rate ([`LinearLR`], [`OneCycleLR`]); call [`LRScheduler::step`] after
//! each optimizer step (or epoch).
//!
//! ```
//! use torchlet::optim::lr_scheduler::{LRScheduler, StepLR};
//! use torchlet::optim::{Optimizer, SGD};
//! use torchlet::Tensor;
//!
//! let w = Tensor::new([1.0]).requires_grad_(true)?;
//! let mut opt = SGD::new([w.clone()], 0.1)?;
//! let mut scheduler = StepLR::new(&mut opt, 2, 0.5)?;
//! let mut lrs = vec![scheduler.get_last_lr()];
//! for _ in 0..5 {
//!     opt.zero_grad();
//!     w.square()?.sum()?.backward()?;
//!     opt.step()?;
//!     scheduler.step(&mut opt)?;
//!     lrs.push(scheduler.get_last_lr());
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
//! assert_eq!(Optimizer::lr(&opt), 0.025);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod cosine;
mod linear;
mod one_cycle;
mod step;

pub use cosine::CosineAnnealingLR;
pub use linear::LinearLR;
pub use one_cycle::{AnnealStrategy, OneCycleConfig, OneCycleLR};
pub use step::{ExponentialLR, MultiStepLR, StepLR};

use crate::element::Element;
use crate::error::{Error, Result};

use super::Optimizer;

/// A learning-rate schedule driven step by step (`torch.optim.lr_scheduler.LRScheduler`).
///
/// The scheduler does not hold the optimizer: each [`LRScheduler::step`] borrows it, reads its current
/// learning rate and sets the next one.
pub trait LRScheduler {
    /// Moves to the next epoch and sets the optimizer's learning rate for it (`scheduler.step()`). On an
    /// error nothing changes.
    fn step<T: Element, O: Optimizer<T> + ?Sized>(&mut self, opt: &mut O) -> Result<()>;

    /// The learning rate the last step set (`scheduler.get_last_lr()[0]`).
    fn get_last_lr(&self) -> f64;

    /// The epoch of the last step: 0 right after construction (`scheduler.last_epoch`).
    fn last_epoch(&self) -> usize;
}

/// The counters every scheduler keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    /// The optimizer's learning rate when the scheduler was made (torch's `base_lrs[0]`).
    base_lr: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl Progress {
    /// torch's initial step: epoch 0, whose learning rate `first` computes from the optimizer's current one.
    fn start<T: Element, O: Optimizer<T> + ?Sized>(
        opt: &mut O,
        first: impl FnOnce(f64) -> Result<f64>,
    ) -> Result<Self> {
        let base_lr = opt.lr();
        let lr = first(base_lr)?;
        opt.set_lr(lr)?;
        Ok(Progress { base_lr, last_epoch: 0, last_lr: lr })
    }

    /// One step: `next(current lr, epoch)` is the learning rate of the next epoch.
    fn advance<T: Element, O: Optimizer<T> + ?Sized>(
        &mut self,
        opt: &mut O,
        next: impl FnOnce(f64, usize) -> Result<f64>,
    ) -> Result<()> {
        let epoch = self.last_epoch + 1;
        let lr = next(opt.lr(), epoch)?;
        opt.set_lr(lr)?;
        self.last_epoch = epoch;
        self.last_lr = lr;
        Ok(())
    }
}

/// `value` must be finite and >= 0.
fn check_factor(op: &'static str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(op, format!("invalid {name}: {value} (must be finite and >= 0)")))
    }
}

/// Implements [`LRScheduler`] for a type with a `progress: Progress` field and a
/// `next_lr(&self, lr, epoch) -> Result<f64>` method.
macro_rules! chainable {
    ($ty:ident) => {
        impl LRScheduler for $ty {
            fn step<T: Element, O: Optimizer<T> + ?Sized>(&mut self, opt: &mut O) -> Result<()> {
                let this = &*self;
                let mut progress = self.progress;
                progress.advance(opt, |lr, epoch| this.next_lr(lr, epoch))?;
                self.progress = progress;
                Ok(())
            }

            fn get_last_lr(&self) -> f64 {
                self.progress.last_lr
            }

            fn last_epoch(&self) -> usize {
                self.progress.last_epoch
            }
        }
    };
}
use chainable;
