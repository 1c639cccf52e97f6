//! RMSprop with torch's exact update rule (`_single_tensor_rmsprop`).

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::fused::with_slices;
use super::param_group::{rmsprop_from_group, rmsprop_group};
use super::rule::{names, Names, UpdateRule};
use super::state::{owned_copy, step_tensor, StateLoader};
use super::{Optim, RmsPropConfig, StateDict};
use crate::storage::cpu::optim::{self, Preamble, RmsProp};

/// RMSprop (`torch.optim.RMSprop`), one parameter group.
///
/// Per parameter θ with gradient g: `g = -g` if maximize; `g = g + wd·θ` if weight decay;
/// `sq = α·sq + (1 − α)·g²`; centered: `ga = lerp(ga, g, 1 − α)` and `avg = √(sq − ga²) + eps`, else
/// `avg = √sq + eps`; with momentum `buf = momentum·buf + g/avg` and `θ = θ − lr·buf`, else
/// `θ = θ − lr·g/avg`. The tensor ops are those of torch's single-tensor implementation in its order,
/// each rounded on its own (libtorch's CPU kernels fuse the multiply-adds in `addcmul_` and `lerp_`, so
/// agreement with libtorch is to rounding, as for [`Adam`](super::Adam)). Parameters without a gradient
/// are skipped and get no state.
///
/// ```
/// use torchlet::optim::{Optimizer, RMSprop, RmsPropConfig};
/// use torchlet::Tensor;
/// let w = Tensor::<f64>::new([1.0, -1.0]).requires_grad_(true)?;
/// let mut opt = RMSprop::with_config([w.clone()], RmsPropConfig::new(0.01).momentum(0.5))?;
/// w.square()?.sum()?.backward()?; // g = 2w: sq = 0.01·g², so g/√sq = ±10
/// opt.step()?;
/// let moved: Vec<f64> = w.to_vec()?.iter().map(|v| v.abs()).collect();
/// assert!(moved.iter().all(|v| (v - 0.9).abs() < 1e-6));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub type RMSprop<T> = Optim<T, RmsPropRule>;

/// The update rule of [`RMSprop`].
#[derive(Debug, Clone, Copy)]
pub struct RmsPropRule;

/// One parameter's state (`opt.state[p]`), made at its first update.
pub struct RmsState<T: Element> {
    step: u64,
    square_avg: Tensor<T>,
    /// Made when the momentum is > 0 (at the first update, or later if a scheduler turns momentum on).
    momentum_buffer: Option<Tensor<T>>,
    /// Only when centered.
    grad_avg: Option<Tensor<T>>,
}

impl<T: Element> UpdateRule<T> for RmsPropRule {
    type Config = RmsPropConfig;
    type State = RmsState<T>;
    const NAMES: Names = names!("RMSprop");

    fn default_config(lr: f64) -> RmsPropConfig {
        RmsPropConfig::new(lr)
    }

    fn validate(config: &RmsPropConfig) -> Result<()> {
        config.validate()
    }

    fn lr(config: &RmsPropConfig) -> f64 {
        config.lr
    }

    fn with_lr(config: RmsPropConfig, lr: f64) -> RmsPropConfig {
        RmsPropConfig { lr, ..config }
    }

    fn momentum(config: &RmsPropConfig) -> f64 {
        config.momentum
    }

    fn with_momentum(config: RmsPropConfig, momentum: f64) -> RmsPropConfig {
        RmsPropConfig { momentum, ..config }
    }

    fn maximize(config: &RmsPropConfig) -> bool {
        config.maximize
    }

    fn l2_weight_decay(config: &RmsPropConfig) -> f64 {
        config.weight_decay
    }

    fn new_state(c: &RmsPropConfig, p: &Tensor<T>) -> Result<RmsState<T>> {
        Ok(RmsState {
            step: 0,
            square_avg: p.zeros_like()?,
            momentum_buffer: None,
            grad_avg: if c.centered { Some(p.zeros_like()?) } else { None },
        })
    }

    /// The tensor ops of torch's `_single_tensor_rmsprop` after its preamble, in its order, each rounded to
    /// `T` as torch's kernels round them; the scalars are computed in f64 as Python computes them.
    fn update(c: &RmsPropConfig, s: &mut RmsState<T>, p: &Tensor<T>, g: &Tensor<T>) -> Result<()> {
        let t = T::from_f64_lossy;
        s.step += 1;
        if c.momentum > 0.0 && s.momentum_buffer.is_none() {
            s.momentum_buffer = Some(p.zeros_like()?);
        }
        s.square_avg.mul_scalar_(t(c.alpha))?.addcmul_(g, g, t(1.0 - c.alpha))?;
        let avg = match &s.grad_avg {
            Some(grad_avg) => {
                grad_avg.lerp_(g, t(1.0 - c.alpha))?;
                // square_avg.addcmul(grad_avg, grad_avg, value=-1), out of place.
                let centered = owned_copy(&s.square_avg)?;
                centered.addcmul_(grad_avg, grad_avg, t(-1.0))?;
                centered.sqrt()?
            }
            None => s.square_avg.sqrt()?,
        };
        avg.add_scalar_(t(c.eps))?;
        match &s.momentum_buffer {
            Some(buf) if c.momentum > 0.0 => {
                // buf.mul_(momentum).addcdiv_(grad, avg), then param.add_(buf, alpha=-lr).
                buf.mul_scalar_(t(c.momentum))?.addcdiv_(g, &avg, T::one())?;
                p.add_scaled_(buf, t(-c.lr))?;
            }
            _ => {
                p.addcdiv_(g, &avg, t(-c.lr))?;
            }
        }
        Ok(())
    }

    fn update_fused(
        c: &RmsPropConfig,
        s: &mut RmsState<T>,
        p: &Tensor<T>,
        g: &Tensor<T>,
        pre: Preamble<T>,
    ) -> Result<bool> {
        let t = T::from_f64_lossy;
        if c.momentum > 0.0 && s.momentum_buffer.is_none() {
            s.momentum_buffer = Some(p.zeros_like()?);
        }
        let rule = RmsProp {
            alpha: t(c.alpha),
            one_minus_alpha: t(1.0 - c.alpha),
            eps: t(c.eps),
            neg_lr: t(-c.lr),
            momentum: t(c.momentum),
        };
        let sq = &s.square_avg;
        // The buffer takes part only while the momentum is on, as in the tensor ops.
        let buf = s.momentum_buffer.as_ref().filter(|_| c.momentum > 0.0);
        let done = match (&s.grad_avg, buf) {
            (None, None) => with_slices(p, g, [sq], |p, g, [sq]| optim::rmsprop(pre, rule, p, g, sq, None, None)),
            (Some(ga), None) => {
                with_slices(p, g, [sq, ga], |p, g, [sq, ga]| optim::rmsprop(pre, rule, p, g, sq, Some(ga), None))
            }
            (None, Some(buf)) => {
                with_slices(p, g, [sq, buf], |p, g, [sq, b]| optim::rmsprop(pre, rule, p, g, sq, None, Some(b)))
            }
            (Some(ga), Some(buf)) => with_slices(p, g, [sq, ga, buf], |p, g, [sq, ga, b]| {
                optim::rmsprop(pre, rule, p, g, sq, Some(ga), Some(b))
            }),
        }
        .is_some();
        if done {
            s.step += 1;
        }
        Ok(done)
    }

    fn state_keys(c: &RmsPropConfig) -> &'static [&'static str] {
        if c.centered {
            &["step", "square_avg", "momentum_buffer", "grad_avg"]
        } else {
            &["step", "square_avg", "momentum_buffer"]
        }
    }

    fn save_state(s: &RmsState<T>) -> Vec<(&'static str, Tensor<T>)> {
        let mut out = vec![("step", step_tensor(s.step)), ("square_avg", s.square_avg.clone())];
        out.extend(s.momentum_buffer.iter().map(|b| ("momentum_buffer", b.clone())));
        out.extend(s.grad_avg.iter().map(|g| ("grad_avg", g.clone())));
        out
    }

    fn load_state(c: &RmsPropConfig, entries: &mut StateLoader<'_, T>) -> Result<RmsState<T>> {
        Ok(RmsState {
            step: entries.step()?,
            square_avg: entries.buffer("square_avg")?,
            // Optional even with momentum: a missing buffer starts at zero, as a new one would.
            momentum_buffer: entries.optional_buffer("momentum_buffer")?,
            grad_avg: if c.centered { Some(entries.buffer("grad_avg")?) } else { None },
        })
    }

    fn param_group(config: &RmsPropConfig) -> StateDict {
        rmsprop_group(config)
    }

    fn load_param_group(own: &RmsPropConfig, group: &StateDict) -> Result<RmsPropConfig> {
        rmsprop_from_group(own, group)
    }
}
