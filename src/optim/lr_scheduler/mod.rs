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
//! Each scheduler's [`LRScheduler::state_dict`] holds torch's keys (`last_epoch`, `base_lrs`, `_last_lr`,
//! `_step_count` and its own settings, such as `step_size` and `gamma`), and [`LRScheduler::load_state_dict`]
//! restores it so that the next step gives the same learning rate as an uninterrupted run. As in torch,
//! the optimizer's learning rate is the optimizer's own state: restore it too, with
//! [`Optimizer::load_param_group`] (or [`load_checkpoint`](crate::io::load_checkpoint), which does both).
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

use super::state_dict::{put, Reader, StateDict};
use super::Optimizer;

/// A learning-rate schedule driven step by step (`torch.optim.lr_scheduler.LRScheduler`).
///
/// The scheduler does not hold the optimizer: each [`LRScheduler::step`] borrows it, reads its current
/// learning rate and sets the next one. torch's `scheduler.step()` needs no argument because the scheduler
/// keeps a reference to its optimizer; in Rust that reference would be a `&mut` borrow for the scheduler's
/// whole life, and the training loop could no longer call `opt.step()`. Owning the optimizer instead would
/// route every optimizer call through the scheduler, and a learning rate shared between the two through a
/// cell would give it two writers (the scheduler, and `load_param_group` or a user's `set_lr`) with no order
/// between them. Passing the optimizer to each step keeps one owner, at the cost of one argument. Everything but `step` can be called through a
/// `&dyn LRScheduler`, which is how [`save_checkpoint`](crate::io::save_checkpoint) takes any scheduler.
///
/// ```
/// use torchlet::optim::lr_scheduler::{LRScheduler, StepLR};
/// use torchlet::optim::{Optimizer, SGD};
/// use torchlet::Tensor;
///
/// let mut opt = SGD::new([Tensor::<f64>::zeros(&[2]).requires_grad_(true)?], 0.1)?;
/// let mut scheduler = StepLR::new(&mut opt, 2, 0.5)?;
/// for _ in 0..3 {
///     scheduler.step(&mut opt)?;
/// }
/// let (state, group) = (scheduler.state_dict(), opt.param_group());
///
/// // Later, or in another process: the same objects made afresh, then both states loaded.
/// let mut opt2 = SGD::new([Tensor::<f64>::zeros(&[2]).requires_grad_(true)?], 0.1)?;
/// let mut scheduler2 = StepLR::new(&mut opt2, 2, 0.5)?;
/// scheduler2.load_state_dict(&state)?;
/// opt2.load_param_group(&group)?;
/// scheduler.step(&mut opt)?;
/// scheduler2.step(&mut opt2)?;
/// assert_eq!((scheduler2.get_last_lr(), opt2.lr()), (scheduler.get_last_lr(), opt.lr()));
/// assert_eq!(scheduler2.last_epoch(), 4);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait LRScheduler {
    /// Moves to the next epoch and sets the optimizer's learning rate for it (`scheduler.step()`). On an
    /// error nothing changes.
    fn step<T: Element, O: Optimizer<T> + ?Sized>(&mut self, opt: &mut O) -> Result<()>
    where
        Self: Sized;

    /// The learning rate the last step set (`scheduler.get_last_lr()[0]`).
    fn get_last_lr(&self) -> f64;

    /// The epoch of the last step: 0 right after construction (`scheduler.last_epoch`).
    fn last_epoch(&self) -> usize;

    /// The scheduler's state under torch's keys (`scheduler.state_dict()`, torch's `__dict__` without the
    /// optimizer): `last_epoch`, `base_lrs` and `_last_lr` (lists of one, for the one parameter group),
    /// `_step_count`, and the scheduler's own settings under torch's attribute names. Each type's docs list
    /// what it adds.
    fn state_dict(&self) -> StateDict;

    /// Restores a state made by [`LRScheduler::state_dict`] of a scheduler of the same type
    /// (`scheduler.load_state_dict(state)`). The keys must be exactly the type's (a state dict of another
    /// scheduler is refused, naming the missing and the unexpected keys), and the values must pass the
    /// constructor's checks; on an error nothing changes. torch's bookkeeping flags
    /// (`_get_lr_called_within_step`, `_is_initial`, `verbose`) are accepted and ignored. The optimizer is
    /// not touched: its learning rate is restored with its own state, as in torch.
    fn load_state_dict(&mut self, state: &StateDict) -> Result<()>;
}

/// Keys of torch's schedulers' `__dict__` that carry no state here.
const IGNORED: [&str; 3] = ["_get_lr_called_within_step", "_is_initial", "verbose"];

/// The keys every scheduler's state has, the [`Progress`].
const PROGRESS_KEYS: [&str; 4] = ["last_epoch", "base_lrs", "_last_lr", "_step_count"];

/// What a scheduler type adds to the common state: its name, its own keys, and how to write and read them.
trait OwnState: Sized {
    /// torch's class name.
    const NAME: &'static str;
    /// `<NAME>::load_state_dict`, for messages.
    const LOAD: &'static str;
    /// The keys of the type's own settings.
    const KEYS: &'static [&'static str];

    fn progress(&self) -> &Progress;

    fn write_own(&self, state: &mut StateDict);

    /// The scheduler of the settings in `r`, checked as its constructor checks them, at `progress`.
    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self>;
}

fn save_state<S: OwnState>(scheduler: &S) -> StateDict {
    let mut state = StateDict::new();
    scheduler.progress().write(&mut state);
    scheduler.write_own(&mut state);
    state
}

/// Reads a whole state, then replaces `scheduler` with it: nothing changes on an error.
fn load_state<S: OwnState>(scheduler: &mut S, state: &StateDict) -> Result<()> {
    let keys: Vec<&str> = PROGRESS_KEYS.iter().chain(S::KEYS).copied().collect();
    let reader = Reader::new(S::LOAD, &format!("{}'s state", S::NAME), state, &keys, &IGNORED)?;
    let progress = Progress::read(&reader, S::LOAD)?;
    *scheduler = S::read_own(&reader, progress)?;
    Ok(())
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

    /// torch's keys for the counters; `_step_count` counts the initial step too.
    fn write(&self, state: &mut StateDict) {
        put(state, "last_epoch", self.last_epoch);
        put(state, "base_lrs", vec![self.base_lr]);
        put(state, "_last_lr", vec![self.last_lr]);
        put(state, "_step_count", self.last_epoch as u64 + 1);
    }

    fn read(r: &Reader<'_>, op: &'static str) -> Result<Self> {
        let last_epoch = r.usize("last_epoch")?;
        let base_lr = r.f64_list("base_lrs", 1)?[0];
        let last_lr = r.f64_list("_last_lr", 1)?[0];
        check_factor(op, "base_lrs[0]", base_lr)?;
        check_factor(op, "_last_lr[0]", last_lr)?;
        // Stepping with an explicit epoch, which torch deprecates and torchlet does not offer, is the only
        // way the two counters part.
        let step_count = r.usize("_step_count")?;
        if step_count as u128 != last_epoch as u128 + 1 {
            return Err(r.invalid(
                "_step_count",
                format!("{step_count} does not follow last_epoch {last_epoch} (expected last_epoch + 1)"),
            ));
        }
        Ok(Progress { base_lr, last_epoch, last_lr })
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

/// Implements [`LRScheduler`] for a type with a `progress: Progress` field, a
/// `next_lr(&self, lr, epoch) -> Result<f64>` method and an [`OwnState`] impl.
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

            fn state_dict(&self) -> $crate::optim::StateDict {
                super::save_state(self)
            }

            fn load_state_dict(&mut self, state: &$crate::optim::StateDict) -> Result<()> {
                super::load_state(self, state)
            }
        }
    };
}
use chainable;
