//! Adam and AdamW with torch's exact update rule (`_single_tensor_adam`).

use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::param_group::{adam_from_group, adam_group};
use super::state::{check_params, entry_name, grad_of, group_entries, lerp_, require_buffer, step_tensor, take_step};
use super::{AdamConfig, Optimizer, StateDict};

/// One parameter's state (`opt.state[p]`), made at its first update.
struct AdamState<T: Element> {
    step: u64,
    exp_avg: Tensor<T>,
    exp_avg_sq: Tensor<T>,
    /// Only with AMSGrad.
    max_exp_avg_sq: Option<Tensor<T>>,
}

/// What Adam and AdamW share: everything but where the weight decay goes.
struct AdamCore<T: Element> {
    /// AdamW's decoupled weight decay instead of Adam's L2 penalty.
    decoupled: bool,
    params: Vec<Tensor<T>>,
    config: AdamConfig,
    states: Vec<Option<AdamState<T>>>,
}

impl<T: Element> AdamCore<T> {
    fn new(
        name: &'static str,
        decoupled: bool,
        params: impl IntoIterator<Item = Tensor<T>>,
        config: AdamConfig,
    ) -> Result<Self> {
        config.validate(name)?;
        let params = check_params(name, params)?;
        let states = params.iter().map(|_| None).collect();
        Ok(AdamCore { decoupled, params, config, states })
    }

    fn step(&mut self) -> Result<()> {
        let op = if self.decoupled { "AdamW::step" } else { "Adam::step" };
        let c = self.config;
        no_grad(|| {
            for (p, slot) in self.params.iter().zip(&mut self.states) {
                let Some(grad) = grad_of(op, p)? else { continue };
                let state = match slot {
                    Some(state) => state,
                    None => slot.insert(AdamState {
                        step: 0,
                        exp_avg: p.zeros_like()?,
                        exp_avg_sq: p.zeros_like()?,
                        max_exp_avg_sq: if c.amsgrad { Some(p.zeros_like()?) } else { None },
                    }),
                };
                update(p, &grad, state, &c, self.decoupled)?;
            }
            Ok(())
        })
    }

    fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
        let mut out = Vec::new();
        for (i, state) in self.states.iter().enumerate() {
            let Some(s) = state else { continue };
            out.push((entry_name(i, "step"), step_tensor(s.step)));
            out.push((entry_name(i, "exp_avg"), s.exp_avg.clone()));
            out.push((entry_name(i, "exp_avg_sq"), s.exp_avg_sq.clone()));
            if let Some(m) = &s.max_exp_avg_sq {
                out.push((entry_name(i, "max_exp_avg_sq"), m.clone()));
            }
        }
        out
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
        let op = if self.decoupled { "AdamW::load_state_dict" } else { "Adam::load_state_dict" };
        let keys: &[&str] = if self.config.amsgrad {
            &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["step", "exp_avg", "exp_avg_sq"]
        };
        let grouped = group_entries(op, state, self.params.len(), keys)?;
        let mut states = Vec::with_capacity(self.params.len());
        for (i, (mut entries, p)) in grouped.into_iter().zip(&self.params).enumerate() {
            if entries.is_empty() {
                states.push(None);
                continue;
            }
            states.push(Some(AdamState {
                step: take_step(op, &mut entries, i)?,
                exp_avg: require_buffer(op, &mut entries, i, "exp_avg", p)?,
                exp_avg_sq: require_buffer(op, &mut entries, i, "exp_avg_sq", p)?,
                max_exp_avg_sq: match self.config.amsgrad {
                    true => Some(require_buffer(op, &mut entries, i, "max_exp_avg_sq", p)?),
                    false => None,
                },
            }));
        }
        self.states = states;
        Ok(())
    }
}

/// One parameter's update, the tensor ops of torch's `_single_tensor_adam` in its order, each rounded
/// to `T` as torch's kernels round them; the scalars are computed in f64 as Python computes them.
fn update<T: Element>(
    p: &Tensor<T>,
    grad: &Tensor<T>,
    s: &mut AdamState<T>,
    c: &AdamConfig,
    decoupled: bool,
) -> Result<()> {
    let t = T::from_f64_lossy;
    let (beta1, beta2) = c.betas;
    let mut g = if c.maximize { grad.neg()? } else { grad.clone() };
    s.step += 1;
    if c.weight_decay != 0.0 {
        if decoupled {
            p.mul_scalar_(t(1.0 - c.lr * c.weight_decay))?;
        } else {
            // grad.add(param, alpha=wd): the scaled parameter plus the gradient.
            let decayed = p.mul_scalar(t(c.weight_decay))?;
            decayed.add_(&g)?;
            g = decayed;
        }
    }
    // One scratch tensor serves the three products below: torch's lerp_, addcmul_ and addcdiv_ never
    // make their intermediate a tensor, and this keeps ours to one.
    let scratch = p.zeros_like()?;
    lerp_(&s.exp_avg, &g, 1.0 - beta1, &scratch)?;
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2): value·g first, then ·g.
    s.exp_avg_sq.mul_scalar_(t(beta2))?;
    s.exp_avg_sq.add_(scratch.copy_(&g)?.mul_scalar_(t(1.0 - beta2))?.mul_(&g)?)?;

    // Python floats: `beta ** step` is C's pow, as f64::powf; the square root is math.sqrt.
    let step = s.step as f64;
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2 = 1.0 - beta2.powf(step);
    let step_size = c.lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.sqrt();
    let second = match &s.max_exp_avg_sq {
        Some(max) => {
            max.copy_(&max.maximum(&s.exp_avg_sq)?)?;
            max
        }
        None => &s.exp_avg_sq,
    };
    let denom = second.sqrt()?.div_scalar(t(bias_correction2_sqrt))?;
    denom.add_scalar_(t(c.eps))?;
    // param.addcdiv_(exp_avg, denom, value=-step_size): (value·exp_avg) / denom, then added.
    p.add_(scratch.copy_(&s.exp_avg)?.mul_scalar_(t(-step_size))?.div_(&denom)?)?;
    Ok(())
}

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
pub struct Adam<T: Element>(AdamCore<T>);

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
pub struct AdamW<T: Element>(AdamCore<T>);

/// The inherent constructors and the [`Optimizer`] impl, the same for both types but for the name in
/// messages, the weight-decay rule and the default configuration.
macro_rules! adam_like {
    ($ty:ident, $name:literal, $decoupled:literal, $default:path, $torch:literal) => {
        impl<T: Element> $ty<T> {
            #[doc = concat!("`", $torch, "(params, lr=lr)` with torch's other defaults.")]
            ///
            /// Fails for an invalid `lr`, an empty parameter list, a non-leaf parameter or one listed
            /// twice.
            pub fn new(params: impl IntoIterator<Item = Tensor<T>>, lr: f64) -> Result<Self> {
                Self::with_config(params, $default(lr))
            }

            #[doc = concat!("`", $torch, "(params, ...)` with every option of `config`.")]
            ///
            /// Fails as `new` does, and for hyperparameters torch refuses.
            pub fn with_config(params: impl IntoIterator<Item = Tensor<T>>, config: AdamConfig) -> Result<Self> {
                AdamCore::new($name, $decoupled, params, config).map($ty)
            }

            /// The hyperparameters.
            pub fn config(&self) -> &AdamConfig {
                &self.0.config
            }
        }

        impl<T: Element> Optimizer<T> for $ty<T> {
            fn step(&mut self) -> Result<()> {
                self.0.step()
            }

            fn zero_grad(&mut self) {
                self.0.params.iter().for_each(Tensor::zero_grad);
            }

            fn params(&self) -> &[Tensor<T>] {
                &self.0.params
            }

            fn lr(&self) -> f64 {
                self.0.config.lr
            }

            fn set_lr(&mut self, lr: f64) -> Result<()> {
                AdamConfig { lr, ..self.0.config }.validate($name)?;
                self.0.config.lr = lr;
                Ok(())
            }

            fn momentum(&self) -> f64 {
                self.0.config.betas.0
            }

            fn set_momentum(&mut self, beta1: f64) -> Result<()> {
                let betas = (beta1, self.0.config.betas.1);
                AdamConfig { betas, ..self.0.config }.validate($name)?;
                self.0.config.betas = betas;
                Ok(())
            }

            fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
                self.0.state_dict()
            }

            fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
                self.0.load_state_dict(state)
            }

            fn param_group(&self) -> StateDict {
                adam_group(&self.0.config)
            }

            fn load_param_group(&mut self, group: &StateDict) -> Result<()> {
                let op = concat!($name, "::load_param_group");
                self.0.config = adam_from_group(op, $name, &self.0.config, group)?;
                Ok(())
            }
        }
    };
}

adam_like!(Adam, "Adam", false, AdamConfig::new, "torch.optim.Adam");
adam_like!(AdamW, "AdamW", true, AdamConfig::adamw, "torch.optim.AdamW");
