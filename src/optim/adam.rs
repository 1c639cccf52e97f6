//! Adam and AdamW with torch's exact update rule (`_single_tensor_adam`).

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::fused::with_slices;
use super::param_group::{adam_from_group, adam_group};
use super::rule::{names, Names, UpdateRule};
use super::state::{step_tensor, StateLoader};
use super::{AdamConfig, Optim, StateDict};
use crate::storage::cpu::optim::{self, Preamble};

/// Adam (`torch.optim.Adam`), one parameter group.
///
/// Per parameter θ with gradient g, at step t = 1, 2, …: `g = -g` if maximize; `g = g + wd·θ` if weight
/// decay; `m = lerp(m, g, 1 − β1)`; `v = β2·v + (1 − β2)·g²`; with AMSGrad `v̂ = max(v̂, v)` replaces `v`
/// below; `denom = √v / √(1 − β2^t) + eps`; `θ = θ − (lr / (1 − β1^t))·m / denom`. The tensor ops are
/// those of torch's single-tensor (for-loop) implementation in its order, each rounded on its own, and
/// the scalars are Python's. libtorch's CPU kernels fuse the multiply-adds inside `lerp_` and `addcmul_`,
/// which moves some elements by an ulp per step, so results agree with libtorch's to rounding (about
/// 1e-14 relative in f64 after 50 steps of a small MLP), not bit for bit. Parameters without a gradient
/// are skipped and get no state.
///
/// ```
/// use torchlet::optim::{Adam, AdamConfig, Optimizer};
/// use torchlet::Tensor;
///
/// // Fit w in y = w·x by least squares.
/// let w = Tensor::<f64>::new([0.0]).requires_grad_(true)?;
/// let mut opt = Adam::with_config([w.clone()], AdamConfig::new(0.1).amsgrad(true))?;
/// let (x, y) = (Tensor::new([1.0, 2.0, 3.0]), Tensor::new([2.0, 4.0, 6.0]));
/// for _ in 0..200 {
///     opt.zero_grad();
///     x.mul(&w)?.sub(&y)?.square()?.mean()?.backward()?;
///     opt.step()?;
/// }
/// assert!((w.item()? - 2.0).abs() < 1e-3);
/// let (name, step) = &opt.state_dict()[0];
/// assert_eq!((name.as_str(), step.item()?), ("state.0.step", 200.0));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub type Adam<T> = Optim<T, AdamRule<false>>;

/// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, one parameter group.
///
/// Each step first scales every parameter that has a gradient by `1 − lr·weight_decay`, then applies
/// Adam's update without the L2 term (see [`Adam`]). The default weight decay is 0.01, as torch's.
///
/// ```
/// use torchlet::optim::{AdamW, Optimizer};
/// use torchlet::Tensor;
/// let w = Tensor::<f64>::new([1.0]).requires_grad_(true)?;
/// let mut opt = AdamW::new([w.clone()], 0.1)?; // weight_decay = 0.01
/// w.sum()?.backward()?; // g = 1: Adam's first step moves w by lr·m/(|g| + eps) ≈ lr
/// opt.step()?;
/// assert!((w.item()? - (1.0 * (1.0 - 0.1 * 0.01) - 0.1)).abs() < 1e-7);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub type AdamW<T> = Optim<T, AdamRule<true>>;

/// The update rule of [`Adam`] (`DECOUPLED = false`: weight decay as an L2 penalty on the gradient) and
/// [`AdamW`] (`true`: the parameter scaled by `1 − lr·weight_decay` first).
#[derive(Debug, Clone, Copy)]
pub struct AdamRule<const DECOUPLED: bool>;

/// One parameter's state (`opt.state[p]`), made at its first update.
pub struct AdamState<T: Element> {
    step: u64,
    exp_avg: Tensor<T>,
    exp_avg_sq: Tensor<T>,
    /// Only with AMSGrad.
    max_exp_avg_sq: Option<Tensor<T>>,
}

/// The step size `lr / (1 − β1^t)` and `√(1 − β2^t)` of step `step`, computed as Python computes them:
/// `beta ** step` is C's pow, as f64::powf; the square root is math.sqrt.
fn step_scalars(c: &AdamConfig, step: u64) -> (f64, f64) {
    let (beta1, beta2) = c.betas;
    let step = step as f64;
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2 = 1.0 - beta2.powf(step);
    (c.lr / bias_correction1, bias_correction2.sqrt())
}

impl<T: Element, const DECOUPLED: bool> UpdateRule<T> for AdamRule<DECOUPLED> {
    type Config = AdamConfig;
    type State = AdamState<T>;
    const NAMES: Names = if DECOUPLED { names!("AdamW") } else { names!("Adam") };

    fn default_config(lr: f64) -> AdamConfig {
        if DECOUPLED {
            AdamConfig::adamw(lr)
        } else {
            AdamConfig::new(lr)
        }
    }

    fn validate(config: &AdamConfig) -> Result<()> {
        config.validate(<Self as UpdateRule<T>>::NAMES.name)
    }

    fn lr(config: &AdamConfig) -> f64 {
        config.lr
    }

    fn with_lr(config: AdamConfig, lr: f64) -> AdamConfig {
        AdamConfig { lr, ..config }
    }

    fn momentum(config: &AdamConfig) -> f64 {
        config.betas.0
    }

    fn with_momentum(config: AdamConfig, beta1: f64) -> AdamConfig {
        AdamConfig { betas: (beta1, config.betas.1), ..config }
    }

    fn maximize(config: &AdamConfig) -> bool {
        config.maximize
    }

    fn l2_weight_decay(config: &AdamConfig) -> f64 {
        if DECOUPLED {
            0.0
        } else {
            config.weight_decay
        }
    }

    fn new_state(c: &AdamConfig, p: &Tensor<T>) -> Result<AdamState<T>> {
        Ok(AdamState {
            step: 0,
            exp_avg: p.zeros_like()?,
            exp_avg_sq: p.zeros_like()?,
            max_exp_avg_sq: if c.amsgrad { Some(p.zeros_like()?) } else { None },
        })
    }

    /// The tensor ops of torch's `_single_tensor_adam` after its preamble, in its order, each rounded to
    /// `T` as torch's kernels round them; the scalars are computed in f64 as Python computes them.
    fn update(c: &AdamConfig, s: &mut AdamState<T>, p: &Tensor<T>, g: &Tensor<T>) -> Result<()> {
        let t = T::from_f64_lossy;
        let (beta1, beta2) = c.betas;
        s.step += 1;
        if DECOUPLED && c.weight_decay != 0.0 {
            p.mul_scalar_(t(1.0 - c.lr * c.weight_decay))?;
        }
        s.exp_avg.lerp_(g, t(1.0 - beta1))?;
        s.exp_avg_sq.mul_scalar_(t(beta2))?.addcmul_(g, g, t(1.0 - beta2))?;
        let (step_size, bias_correction2_sqrt) = step_scalars(c, s.step);
        let second = match &s.max_exp_avg_sq {
            Some(max) => {
                max.copy_(&max.maximum(&s.exp_avg_sq)?)?;
                max
            }
            None => &s.exp_avg_sq,
        };
        let denom = second.sqrt()?.div_scalar(t(bias_correction2_sqrt))?;
        denom.add_scalar_(t(c.eps))?;
        p.addcdiv_(&s.exp_avg, &denom, t(-step_size))?;
        Ok(())
    }

    fn update_fused(
        c: &AdamConfig,
        s: &mut AdamState<T>,
        p: &Tensor<T>,
        g: &Tensor<T>,
        pre: Preamble<T>,
    ) -> Result<bool> {
        let t = T::from_f64_lossy;
        let (beta1, beta2) = c.betas;
        let step = s.step + 1;
        let (step_size, bias_correction2_sqrt) = step_scalars(c, step);
        let rule = optim::Adam {
            decoupled: (DECOUPLED && c.weight_decay != 0.0).then(|| t(1.0 - c.lr * c.weight_decay)),
            lerp_weight: t(1.0 - beta1),
            beta2: t(beta2),
            one_minus_beta2: t(1.0 - beta2),
            bias_correction2_sqrt: t(bias_correction2_sqrt),
            eps: t(c.eps),
            neg_step_size: t(-step_size),
        };
        let moments = [&s.exp_avg, &s.exp_avg_sq];
        let done = match &s.max_exp_avg_sq {
            None => with_slices(p, g, moments, |p, g, m| optim::adam(pre, rule, p, g, m, None)),
            Some(max) => with_slices(p, g, [moments[0], moments[1], max], |p, g, [m, v, max]| {
                optim::adam(pre, rule, p, g, [m, v], Some(max))
            }),
        }
        .is_some();
        if done {
            s.step = step;
        }
        Ok(done)
    }

    fn state_keys(c: &AdamConfig) -> &'static [&'static str] {
        if c.amsgrad {
            &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["step", "exp_avg", "exp_avg_sq"]
        }
    }

    fn save_state(s: &AdamState<T>) -> Vec<(&'static str, Tensor<T>)> {
        let mut out = vec![("step", step_tensor(s.step)), ("exp_avg", s.exp_avg.clone())];
        out.push(("exp_avg_sq", s.exp_avg_sq.clone()));
        out.extend(s.max_exp_avg_sq.iter().map(|m| ("max_exp_avg_sq", m.clone())));
        out
    }

    fn load_state(c: &AdamConfig, entries: &mut StateLoader<'_, T>) -> Result<AdamState<T>> {
        Ok(AdamState {
            step: entries.step()?,
            exp_avg: entries.buffer("exp_avg")?,
            exp_avg_sq: entries.buffer("exp_avg_sq")?,
            max_exp_avg_sq: if c.amsgrad { Some(entries.buffer("max_exp_avg_sq")?) } else { None },
        })
    }

    fn param_group(config: &AdamConfig) -> StateDict {
        adam_group(config)
    }

    fn load_param_group(own: &AdamConfig, group: &StateDict) -> Result<AdamConfig> {
        let names = <Self as UpdateRule<T>>::NAMES;
        adam_from_group(names.load_param_group, names.name, own, group)
    }
}
