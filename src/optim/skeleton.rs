//! [`Optim`]: one optimizer over a list of parameters, for any [`UpdateRule`]. The parameter list, the
//! per-parameter state, the preamble every torch optimizer runs before its update, the state dict, the
//! parameter group and the hyperparameter accessors are written here once.

use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::rule::UpdateRule;
use super::state::{check_params, entry_name, grad_of, group_entries, StateLoader};
use super::{Optimizer, StateDict};

/// An optimizer with one parameter group, following the update rule `R`: [`SGD`](super::SGD),
/// [`Adam`](super::Adam), [`AdamW`](super::AdamW) and [`RMSprop`](super::RMSprop) are this type with their
/// rules, and are documented under those names.
pub struct Optim<T: Element, R: UpdateRule<T>> {
    params: Vec<Tensor<T>>,
    config: R::Config,
    /// One per parameter, `None` until its first update.
    states: Vec<Option<R::State>>,
}

impl<T: Element, R: UpdateRule<T>> Optim<T, R> {
    /// The optimizer over `params` with learning rate `lr` and torch's other defaults
    /// (`torch.optim.<name>(params, lr=lr)`).
    ///
    /// Fails for an invalid `lr`, an empty parameter list, a non-leaf parameter or one listed twice.
    pub fn new(params: impl IntoIterator<Item = Tensor<T>>, lr: f64) -> Result<Self> {
        Self::with_config(params, R::default_config(lr))
    }

    /// The optimizer over `params` with every option of `config` (`torch.optim.<name>(params, ...)`).
    ///
    /// Fails as `new` does, and for hyperparameters torch refuses.
    pub fn with_config(params: impl IntoIterator<Item = Tensor<T>>, config: R::Config) -> Result<Self> {
        R::validate(&config)?;
        let params = check_params(R::NAMES.name, params)?;
        let states = params.iter().map(|_| None).collect();
        Ok(Optim { params, config, states })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &R::Config {
        &self.config
    }

    /// The state of parameter `index`, `None` before its first update.
    pub(crate) fn state(&self, index: usize) -> Option<&R::State> {
        self.states.get(index)?.as_ref()
    }

    /// [`Optimizer::step`]: the preamble, then the rule's update, parameter by parameter; in one pass over
    /// the buffers where they allow it (`fused`), else as tensor ops.
    pub(crate) fn step_all(&mut self) -> Result<()> {
        let c = self.config;
        let (maximize, weight_decay) = (R::maximize(&c), R::l2_weight_decay(&c));
        let one_pass = super::fused::preamble(maximize, weight_decay);
        no_grad(|| {
            for (p, slot) in self.params.iter().zip(&mut self.states) {
                let Some(grad) = grad_of(R::NAMES.step, p)? else { continue };
                let state = match slot {
                    Some(state) => state,
                    None => slot.insert(R::new_state(&c, p)?),
                };
                if R::update_fused(&c, state, p, &grad, one_pass)? {
                    continue;
                }
                let grad = preamble(p, grad, maximize, weight_decay)?;
                R::update(&c, state, p, &grad)?;
            }
            Ok(())
        })
    }

    pub(crate) fn zero_grads(&self) {
        self.params.iter().for_each(Tensor::zero_grad);
    }

    /// [`Optimizer::set_lr`], checked as at construction.
    pub(crate) fn change_lr(&mut self, lr: f64) -> Result<()> {
        let config = R::with_lr(self.config, lr);
        R::validate(&config)?;
        self.config = config;
        Ok(())
    }
}

/// What torch's optimizers do to the gradient before their own update: negate it with `maximize`, then add
/// the L2 penalty `weight_decay·θ` (torch's `grad.add(param, alpha=weight_decay)`, rounded as the scaled
/// parameter plus the gradient). The gradient itself is never changed.
fn preamble<T: Element>(p: &Tensor<T>, grad: Tensor<T>, maximize: bool, weight_decay: f64) -> Result<Tensor<T>> {
    let grad = if maximize { grad.neg()? } else { grad };
    if weight_decay == 0.0 {
        return Ok(grad);
    }
    let decayed = p.mul_scalar(T::from_f64_lossy(weight_decay))?;
    decayed.add_(&grad)?;
    Ok(decayed)
}

impl<T: Element, R: UpdateRule<T>> Optimizer<T> for Optim<T, R> {
    fn step(&mut self) -> Result<()> {
        self.step_all()
    }

    fn zero_grad(&mut self) {
        self.zero_grads();
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn lr(&self) -> f64 {
        R::lr(&self.config)
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.change_lr(lr)
    }

    fn momentum(&self) -> f64 {
        R::momentum(&self.config)
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        let config = R::with_momentum(self.config, momentum);
        R::validate(&config)?;
        self.config = config;
        Ok(())
    }

    fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
        let states = self.states.iter().enumerate();
        let per_param = states.filter_map(|(i, s)| Some((i, R::save_state(s.as_ref()?))));
        per_param.flat_map(|(i, entries)| entries.into_iter().map(move |(key, t)| (entry_name(i, key), t))).collect()
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
        let op = R::NAMES.load_state_dict;
        let grouped = group_entries(op, state, self.params.len(), R::state_keys(&self.config))?;
        let mut states = Vec::with_capacity(self.params.len());
        for (i, (entries, p)) in grouped.into_iter().zip(&self.params).enumerate() {
            if entries.is_empty() {
                states.push(None);
                continue;
            }
            states.push(Some(R::load_state(&self.config, &mut StateLoader::new(op, i, p, entries))?));
        }
        self.states = states;
        Ok(())
    }

    fn param_group(&self) -> StateDict {
        R::param_group(&self.config)
    }

    fn load_param_group(&mut self, group: &StateDict) -> Result<()> {
        self.config = R::load_param_group(&self.config, group)?;
        Ok(())
    }
}
