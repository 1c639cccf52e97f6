//! RMSprop with torch's exact update rule (`_single_tensor_rmsprop`).

use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::param_group::{rmsprop_from_group, rmsprop_group};
use super::state::{
    check_params, entry_name, grad_of, group_entries, lerp_, require_buffer, step_tensor, take_buffer, take_step,
};
use super::{Optimizer, RmsPropConfig, StateDict};

/// One parameter's state (`opt.state[p]`), made at its first update.
struct RmsState<T: Element> {
    step: u64,
    square_avg: Tensor<T>,
    /// Made when the momentum is > 0 (at the first update, or later if a scheduler turns momentum on).
    momentum_buffer: Option<Tensor<T>>,
    /// Only when centered.
    grad_avg: Option<Tensor<T>>,
}

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
pub struct RMSprop<T: Element> {
    params: Vec<Tensor<T>>,
    config: RmsPropConfig,
    states: Vec<Option<RmsState<T>>>,
}

impl<T: Element> RMSprop<T> {
    /// `torch.optim.RMSprop(params, lr=lr)` with torch's other defaults.
    ///
    /// Fails for an invalid `lr`, an empty parameter list, a non-leaf parameter or one listed twice.
    pub fn new(params: impl IntoIterator<Item = Tensor<T>>, lr: f64) -> Result<Self> {
        Self::with_config(params, RmsPropConfig::new(lr))
    }

    /// `torch.optim.RMSprop(params, ...)` with every option of `config`; fails as [`RMSprop::new`] and for
    /// hyperparameters torch refuses.
    pub fn with_config(params: impl IntoIterator<Item = Tensor<T>>, config: RmsPropConfig) -> Result<Self> {
        config.validate()?;
        let params = check_params("RMSprop", params)?;
        let states = params.iter().map(|_| None).collect();
        Ok(RMSprop { params, config, states })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl<T: Element> Optimizer<T> for RMSprop<T> {
    fn step(&mut self) -> Result<()> {
        let c = self.config;
        no_grad(|| {
            for (p, slot) in self.params.iter().zip(&mut self.states) {
                let Some(grad) = grad_of("RMSprop::step", p)? else { continue };
                let state = match slot {
                    Some(state) => state,
                    None => slot.insert(RmsState {
                        step: 0,
                        square_avg: p.zeros_like()?,
                        momentum_buffer: None,
                        grad_avg: if c.centered { Some(p.zeros_like()?) } else { None },
                    }),
                };
                if c.momentum > 0.0 && state.momentum_buffer.is_none() {
                    state.momentum_buffer = Some(p.zeros_like()?);
                }
                update(p, &grad, state, &c)?;
            }
            Ok(())
        })
    }

    fn zero_grad(&mut self) {
        self.params.iter().for_each(Tensor::zero_grad);
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        RmsPropConfig { lr, ..self.config }.validate()?;
        self.config.lr = lr;
        Ok(())
    }

    fn momentum(&self) -> f64 {
        self.config.momentum
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        RmsPropConfig { momentum, ..self.config }.validate()?;
        self.config.momentum = momentum;
        Ok(())
    }

    fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
        let mut out = Vec::new();
        for (i, state) in self.states.iter().enumerate() {
            let Some(s) = state else { continue };
            out.push((entry_name(i, "step"), step_tensor(s.step)));
            out.push((entry_name(i, "square_avg"), s.square_avg.clone()));
            if let Some(b) = &s.momentum_buffer {
                out.push((entry_name(i, "momentum_buffer"), b.clone()));
            }
            if let Some(g) = &s.grad_avg {
                out.push((entry_name(i, "grad_avg"), g.clone()));
            }
        }
        out
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
        const OP: &str = "RMSprop::load_state_dict";
        let keys: &[&str] = if self.config.centered {
            &["step", "square_avg", "momentum_buffer", "grad_avg"]
        } else {
            &["step", "square_avg", "momentum_buffer"]
        };
        let grouped = group_entries(OP, state, self.params.len(), keys)?;
        let mut states = Vec::with_capacity(self.params.len());
        for (i, (mut entries, p)) in grouped.into_iter().zip(&self.params).enumerate() {
            if entries.is_empty() {
                states.push(None);
                continue;
            }
            states.push(Some(RmsState {
                step: take_step(OP, &mut entries, i)?,
                square_avg: require_buffer(OP, &mut entries, i, "square_avg", p)?,
                // Optional even with momentum: a missing buffer starts at zero, as a new one would.
                momentum_buffer: take_buffer(OP, &mut entries, i, "momentum_buffer", p)?,
                grad_avg: match self.config.centered {
                    true => Some(require_buffer(OP, &mut entries, i, "grad_avg", p)?),
                    false => None,
                },
            }));
        }
        self.states = states;
        Ok(())
    }

    fn param_group(&self) -> StateDict {
        rmsprop_group(&self.config)
    }

    fn load_param_group(&mut self, group: &StateDict) -> Result<()> {
        self.config = rmsprop_from_group(&self.config, group)?;
        Ok(())
    }
}

/// One parameter's update, the tensor ops of torch's `_single_tensor_rmsprop` in its order, each rounded
/// to `T` as torch's kernels round them; the scalars are computed in f64 as Python computes them.
fn update<T: Element>(p: &Tensor<T>, grad: &Tensor<T>, s: &mut RmsState<T>, c: &RmsPropConfig) -> Result<()> {
    let t = T::from_f64_lossy;
    let mut g = if c.maximize { grad.neg()? } else { grad.clone() };
    s.step += 1;
    if c.weight_decay != 0.0 {
        // grad.add(param, alpha=wd): the scaled parameter plus the gradient.
        let decayed = p.mul_scalar(t(c.weight_decay))?;
        decayed.add_(&g)?;
        g = decayed;
    }
    // One scratch tensor for the products that torch's addcmul/addcdiv keep inside their kernels.
    let scratch = p.zeros_like()?;
    // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha): value·g first, then ·g.
    s.square_avg.mul_scalar_(t(c.alpha))?;
    s.square_avg.add_(scratch.copy_(&g)?.mul_scalar_(t(1.0 - c.alpha))?.mul_(&g)?)?;
    let avg = match &s.grad_avg {
        Some(grad_avg) => {
            lerp_(grad_avg, &g, 1.0 - c.alpha, &scratch)?;
            // square_avg.addcmul(grad_avg, grad_avg, value=-1): (−ga)·ga is exactly −(ga·ga).
            s.square_avg.sub(scratch.copy_(grad_avg)?.mul_(grad_avg)?)?.sqrt()?
        }
        None => s.square_avg.sqrt()?,
    };
    avg.add_scalar_(t(c.eps))?;
    match &s.momentum_buffer {
        Some(buf) if c.momentum > 0.0 => {
            // buf.mul_(momentum).addcdiv_(grad, avg), then param.add_(buf, alpha=-lr).
            buf.mul_scalar_(t(c.momentum))?.add_(scratch.copy_(&g)?.div_(&avg)?)?;
            p.add_scaled_(buf, t(-c.lr))?;
        }
        // param.addcdiv_(grad, avg, value=-lr): (value·g) / avg, then added.
        _ => {
            p.add_(scratch.copy_(&g)?.mul_scalar_(t(-c.lr))?.div_(&avg)?)?;
        }
    }
    Ok(())
}
