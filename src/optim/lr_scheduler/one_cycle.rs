//! The 1cycle policy: up to a peak learning rate, then down far below the start.

use std::f64::consts::PI;

use serde_json::Value;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::optim::state_dict::{put, Reader, StateDict};
use crate::optim::Optimizer;

use super::{check_factor, LRScheduler, OwnState, Progress};

/// How [`OneCycleLR`] moves between two values within a phase (torch's `anneal_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnnealStrategy {
    /// Half a cosine: `end + (start − end)/2·(cos(π·pct) + 1)` (`"cos"`, the default).
    #[default]
    Cos,
    /// A straight line: `(end − start)·pct + start` (`"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// torch's `_anneal_func_type`.
    fn torch_name(self) -> &'static str {
        match self {
            AnnealStrategy::Cos => "cos",
            AnnealStrategy::Linear => "linear",
        }
    }

    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// The settings of [`OneCycleLR`], with torch's defaults from [`OneCycleConfig::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneCycleConfig {
    /// The peak learning rate.
    pub max_lr: f64,
    /// The number of steps in the cycle: `step` may be called this many times.
    pub total_steps: usize,
    /// The fraction of the cycle spent raising the learning rate (0.3).
    pub pct_start: f64,
    /// How values move within a phase ([`AnnealStrategy::Cos`]).
    pub anneal_strategy: AnnealStrategy,
    /// Cycle the momentum inversely to the learning rate, between `max_momentum` and `base_momentum`
    /// (true). As in torch this sets the optimizer's momentum (Adam's β1) from the first step on, even
    /// for an SGD made without momentum.
    pub cycle_momentum: bool,
    /// The momentum at the learning rate's peak (0.85).
    pub base_momentum: f64,
    /// The momentum at the start and the end (0.95).
    pub max_momentum: f64,
    /// The initial learning rate is `max_lr / div_factor` (25).
    pub div_factor: f64,
    /// The final learning rate is the initial one over `final_div_factor` (1e4).
    pub final_div_factor: f64,
    /// Three phases (up, back down to the initial rate, then down to the final one) instead of two (false).
    pub three_phase: bool,
}

impl OneCycleConfig {
    /// torch's defaults for a cycle of `total_steps` steps peaking at `max_lr`.
    ///
    /// ```
    /// let c = torchlet::optim::lr_scheduler::OneCycleConfig::new(0.1, 100);
    /// assert_eq!((c.pct_start, c.div_factor, c.final_div_factor, c.three_phase), (0.3, 25.0, 1e4, false));
    /// ```
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycleConfig {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// One phase: where it ends and what it moves between.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Phase {
    end_step: f64,
    lrs: (f64, f64),
    momenta: (f64, f64),
}

/// torch's names of what each phase moves between, as its `_schedule_phases` hold them: `start_lr`,
/// `end_lr`, `start_momentum`, `end_momentum`, each naming a value of the parameter group.
const TWO_PHASES: [[&str; 4]; 2] =
    [["initial_lr", "max_lr", "max_momentum", "base_momentum"], ["max_lr", "min_lr", "base_momentum", "max_momentum"]];
const THREE_PHASES: [[&str; 4]; 3] = [
    ["initial_lr", "max_lr", "max_momentum", "base_momentum"],
    ["max_lr", "initial_lr", "base_momentum", "max_momentum"],
    ["initial_lr", "min_lr", "max_momentum", "max_momentum"],
];

/// The 1cycle learning-rate policy (`lr_scheduler.OneCycleLR`), stepped after every batch.
///
/// Not chainable, as torch's: each step computes the learning rate from the step number alone. With
/// `initial = max_lr/div_factor` and `min = initial/final_div_factor`, two phases anneal
/// `initial → max_lr` over the first `pct_start·total_steps − 1` steps and `max_lr → min` to step
/// `total_steps − 1`; three phases go `initial → max_lr → initial → min`, the first two symmetric. Within a
/// phase from step `s0` to `s1`, `pct = (step − s0)/(s1 − s0)`. Stepping past `total_steps` is an error.
/// The one difference from torch: at step `total_steps`, which lies past the last phase, a linear anneal
/// gives torch a negative learning rate; here it is 0.
///
/// Its state dict adds torch's `total_steps`, `_schedule_phases` (each phase's `end_step` and the names of
/// the values it moves between), `_anneal_func_type` and `cycle_momentum`; the values those names refer to,
/// which torch keeps in the optimizer's parameter group, under the same names (`initial_lr`, `max_lr`,
/// `min_lr`, `base_momentum`, `max_momentum`); and the settings torch does not keep (`pct_start`,
/// `div_factor`, `final_div_factor`, `three_phase`).
///
/// ```
/// use torchlet::optim::lr_scheduler::{LRScheduler, OneCycleConfig, OneCycleLR};
/// use torchlet::optim::{Optimizer, SGD};
/// use torchlet::Tensor;
///
/// let mut opt = SGD::new([Tensor::<f64>::zeros(&[2]).requires_grad_(true)?], 0.01)?;
/// let mut scheduler = OneCycleLR::new(&mut opt, OneCycleConfig::new(1.0, 10))?;
/// // Step 0 anneals from 1/25 and 0.95 with pct = 0, which rounds to within an ulp or two of them.
/// assert!((scheduler.get_last_lr() - 1.0 / 25.0).abs() < 1e-15 && (opt.momentum() - 0.95).abs() < 1e-15);
/// for _ in 0..2 {
///     scheduler.step(&mut opt)?; // after opt.step() in a real loop
/// }
/// assert_eq!(scheduler.get_last_lr(), 1.0); // the peak, at step pct_start·10 − 1 = 2
/// assert_eq!(opt.momentum(), 0.85);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLR {
    config: OneCycleConfig,
    phases: Vec<Phase>,
    progress: Progress,
}

impl OneCycleLR {
    /// `OneCycleLR(opt, max_lr, total_steps, ...)` with the settings of `config`; sets the optimizer's
    /// learning rate (and momentum) for step 0. Fails as torch does for `total_steps` 0 and a `pct_start`
    /// outside [0, 1], and for factors or rates that are not finite and positive.
    pub fn new<T: Element, O: Optimizer<T> + ?Sized>(opt: &mut O, config: OneCycleConfig) -> Result<Self> {
        let mut scheduler = Self::at_start("OneCycleLR", config)?;
        let (lr, momentum) = scheduler.at(0)?;
        scheduler.apply(opt, lr, momentum)?;
        scheduler.progress.last_lr = lr;
        Ok(scheduler)
    }

    /// The scheduler of `config`, checked, before its initial step.
    fn at_start(op: &'static str, config: OneCycleConfig) -> Result<Self> {
        let c = config;
        if c.total_steps == 0 {
            return Err(Error::invalid(op, "expected a positive integer total_steps, but got 0"));
        }
        if !(0.0..=1.0).contains(&c.pct_start) {
            return Err(Error::invalid(op, format!("expected a pct_start between 0 and 1, but got {}", c.pct_start)));
        }
        check_factor(op, "max_lr", c.max_lr)?;
        for (name, value) in [("div_factor", c.div_factor), ("final_div_factor", c.final_div_factor)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::invalid(op, format!("invalid {name}: {value} (must be finite and > 0)")));
            }
        }
        let initial_lr = c.max_lr / c.div_factor;
        let min_lr = initial_lr / c.final_div_factor;
        let (base_m, max_m) = (c.base_momentum, c.max_momentum);
        let total = c.total_steps as f64;
        let last = Phase { end_step: total - 1.0, lrs: (c.max_lr, min_lr), momenta: (base_m, max_m) };
        let first =
            Phase { end_step: c.pct_start * total - 1.0, lrs: (initial_lr, c.max_lr), momenta: (max_m, base_m) };
        let phases = if c.three_phase {
            let down = Phase {
                end_step: 2.0 * c.pct_start * total - 2.0,
                lrs: (c.max_lr, initial_lr),
                momenta: (base_m, max_m),
            };
            vec![first, down, Phase { lrs: (initial_lr, min_lr), momenta: (max_m, max_m), ..last }]
        } else {
            vec![first, last]
        };
        Ok(OneCycleLR { config, phases, progress: Progress { base_lr: initial_lr, last_epoch: 0, last_lr: 0.0 } })
    }

    /// The learning rate and momentum at `step` (torch's `get_lr`).
    fn at(&self, step: usize) -> Result<(f64, f64)> {
        if step > self.config.total_steps {
            return Err(Error::invalid(
                "OneCycleLR",
                format!(
                    "tried to step {step} times; the specified number of total steps is {}",
                    self.config.total_steps
                ),
            ));
        }
        let step_num = step as f64;
        let mut start_step = 0.0;
        for (i, phase) in self.phases.iter().enumerate() {
            if step_num <= phase.end_step || i == self.phases.len() - 1 {
                if phase.end_step == start_step {
                    // torch divides by zero here (ZeroDivisionError).
                    return Err(Error::invalid(
                        "OneCycleLR",
                        format!(
                            "phase {i} has no steps (total_steps {}, pct_start {})",
                            self.config.total_steps, self.config.pct_start
                        ),
                    ));
                }
                let pct = (step_num - start_step) / (phase.end_step - start_step);
                let anneal = |(from, to): (f64, f64)| self.config.anneal_strategy.anneal(from, to, pct);
                // At step total_steps torch extrapolates past the end of the last phase (pct > 1), where a
                // linear anneal falls below zero: torch's optimizers take that rate, ours refuse it, and no
                // optimizer step of the usual loop uses it. It is floored at 0 here; every other rate is
                // torch's.
                return Ok((anneal(phase.lrs).max(0.0), anneal(phase.momenta)));
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always matches")
    }

    /// Sets both values, or neither.
    fn apply<T: Element, O: Optimizer<T> + ?Sized>(&self, opt: &mut O, lr: f64, momentum: f64) -> Result<()> {
        if !self.config.cycle_momentum {
            return opt.set_lr(lr);
        }
        let old_momentum = opt.momentum();
        opt.set_momentum(momentum)?;
        opt.set_lr(lr).inspect_err(|_| {
            // The optimizer accepted this value before, so putting it back cannot fail.
            let _ = opt.set_momentum(old_momentum);
        })
    }
}

impl OwnState for OneCycleLR {
    const NAME: &'static str = "OneCycleLR";
    const LOAD: &'static str = "OneCycleLR::load_state_dict";
    const KEYS: &'static [&'static str] = &[
        "total_steps",
        "_schedule_phases",
        "_anneal_func_type",
        "cycle_momentum",
        "initial_lr",
        "max_lr",
        "min_lr",
        "base_momentum",
        "max_momentum",
        "pct_start",
        "div_factor",
        "final_div_factor",
        "three_phase",
    ];

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn write_own(&self, state: &mut StateDict) {
        let c = &self.config;
        let names: &[[&str; 4]] = if c.three_phase { &THREE_PHASES } else { &TWO_PHASES };
        let phases: Vec<StateDict> = self
            .phases
            .iter()
            .zip(names)
            .map(|(phase, [start_lr, end_lr, start_momentum, end_momentum])| {
                let mut p = StateDict::new();
                put(&mut p, "end_step", phase.end_step);
                put(&mut p, "start_lr", *start_lr);
                put(&mut p, "end_lr", *end_lr);
                put(&mut p, "start_momentum", *start_momentum);
                put(&mut p, "end_momentum", *end_momentum);
                p
            })
            .collect();
        put(state, "total_steps", c.total_steps);
        put(state, "_schedule_phases", phases);
        put(state, "_anneal_func_type", c.anneal_strategy.torch_name());
        put(state, "cycle_momentum", c.cycle_momentum);
        put(state, "initial_lr", self.phases[0].lrs.0);
        put(state, "max_lr", c.max_lr);
        put(state, "min_lr", self.phases[self.phases.len() - 1].lrs.1);
        put(state, "base_momentum", c.base_momentum);
        put(state, "max_momentum", c.max_momentum);
        put(state, "pct_start", c.pct_start);
        put(state, "div_factor", c.div_factor);
        put(state, "final_div_factor", c.final_div_factor);
        put(state, "three_phase", c.three_phase);
    }

    fn read_own(r: &Reader<'_>, progress: Progress) -> Result<Self> {
        let anneal_strategy = match r.str("_anneal_func_type")? {
            "cos" => AnnealStrategy::Cos,
            "linear" => AnnealStrategy::Linear,
            other => return Err(r.invalid("_anneal_func_type", format!("{other:?} is not \"cos\" or \"linear\""))),
        };
        let config = OneCycleConfig {
            max_lr: r.f64("max_lr")?,
            total_steps: r.usize("total_steps")?,
            pct_start: r.f64("pct_start")?,
            anneal_strategy,
            cycle_momentum: r.bool("cycle_momentum")?,
            base_momentum: r.f64("base_momentum")?,
            max_momentum: r.f64("max_momentum")?,
            div_factor: r.f64("div_factor")?,
            final_div_factor: r.f64("final_div_factor")?,
            three_phase: r.bool("three_phase")?,
        };
        let mut scheduler = Self::at_start(Self::LOAD, config)?;
        if progress.last_epoch > config.total_steps {
            return Err(
                r.invalid("last_epoch", format!("{} is past total_steps {}", progress.last_epoch, config.total_steps))
            );
        }
        // The phases, the rates derived from the settings and base_lrs are written from the settings: a
        // state whose copies disagree with them was not written by a OneCycleLR of those settings.
        let mut derived = StateDict::new();
        scheduler.write_own(&mut derived);
        scheduler.progress.write(&mut derived);
        for key in ["_schedule_phases", "initial_lr", "min_lr", "base_lrs"] {
            let (given, expected) = (r.value(key)?, derived.get(key).unwrap_or(&Value::Null));
            if given != expected {
                return Err(r.invalid(key, format!("{given} does not follow from the other settings ({expected})")));
            }
        }
        scheduler.progress = progress;
        Ok(scheduler)
    }
}

impl LRScheduler for OneCycleLR {
    fn step<T: Element, O: Optimizer<T> + ?Sized>(&mut self, opt: &mut O) -> Result<()> {
        let (lr, momentum) = self.at(self.progress.last_epoch + 1)?;
        self.apply(opt, lr, momentum)?;
        self.progress.last_epoch += 1;
        self.progress.last_lr = lr;
        Ok(())
    }

    fn get_last_lr(&self) -> f64 {
        self.progress.last_lr
    }

    fn last_epoch(&self) -> usize {
        self.progress.last_epoch
    }

    fn state_dict(&self) -> StateDict {
        super::save_state(self)
    }

    fn load_state_dict(&mut self, state: &StateDict) -> Result<()> {
        super::load_state(self, state)
    }
}
