//! What an optimization algorithm is to [`Optim`](super::Optim): its hyperparameters, one parameter's state
//! and the update of one parameter (dfdx's `update_tensor`, tch-rs's `OptimizerConfig`). The rest — the
//! parameter list, skipping parameters without a gradient, `maximize`, the L2 weight decay, the state dict,
//! the parameter group, the learning rate and momentum — is written once, in `Optim`.

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::state::StateLoader;
use super::StateDict;
use crate::storage::cpu::optim::Preamble;

/// The names an optimizer's errors give: the constructor's (torch's class name) and its methods'.
pub struct Names {
    /// `"Adam"`: construction and the hyperparameter checks.
    pub(crate) name: &'static str,
    /// `"Adam::step"`.
    pub(crate) step: &'static str,
    /// `"Adam::load_state_dict"`.
    pub(crate) load_state_dict: &'static str,
    /// `"Adam::load_param_group"`.
    pub(crate) load_param_group: &'static str,
}

/// The [`Names`] of the optimizer `$name`.
macro_rules! names {
    ($name:literal) => {
        $crate::optim::rule::Names {
            name: $name,
            step: concat!($name, "::step"),
            load_state_dict: concat!($name, "::load_state_dict"),
            load_param_group: concat!($name, "::load_param_group"),
        }
    };
}
pub(crate) use names;

/// One optimization algorithm: a type with no values that names its configuration and its state, and
/// gives the per-parameter update. Implemented by the crate's optimizers only (the trait is not exported),
/// so that its helper types stay private.
pub trait UpdateRule<T: Element> {
    /// The hyperparameters ([`SgdConfig`](super::SgdConfig), ...), kept by value and copied per step.
    type Config: Copy;
    /// One parameter's state (torch's `opt.state[p]`), made at the parameter's first update.
    type State;
    /// The names errors give.
    const NAMES: Names;

    /// torch's defaults with learning rate `lr`, for `new(params, lr)`.
    fn default_config(lr: f64) -> Self::Config;

    /// The constructor's checks, under the constructor's name.
    fn validate(config: &Self::Config) -> Result<()>;

    /// The learning rate.
    fn lr(config: &Self::Config) -> f64;

    /// `config` with learning rate `lr`, unchecked.
    fn with_lr(config: Self::Config, lr: f64) -> Self::Config;

    /// The momentum a scheduler cycles (see [`Optimizer::momentum`](super::Optimizer::momentum)).
    fn momentum(config: &Self::Config) -> f64;

    /// `config` with that momentum, unchecked.
    fn with_momentum(config: Self::Config, momentum: f64) -> Self::Config;

    /// Whether the gradient is negated before anything else (`maximize`).
    fn maximize(config: &Self::Config) -> bool;

    /// The L2 penalty added to the gradient, `g + weight_decay·θ`, before the update sees it; 0 for none.
    /// AdamW's decoupled decay is not one: it is part of its update.
    fn l2_weight_decay(config: &Self::Config) -> f64;

    /// The state of a parameter before its first update.
    fn new_state(config: &Self::Config, param: &Tensor<T>) -> Result<Self::State>;

    /// One update of `param` in place, from `grad` as [`UpdateRule::maximize`] and
    /// [`UpdateRule::l2_weight_decay`] left it, under `no_grad`.
    fn update(config: &Self::Config, state: &mut Self::State, param: &Tensor<T>, grad: &Tensor<T>) -> Result<()>;

    /// [`UpdateRule::update`] from the raw gradient, the preamble included, in one pass over the buffers
    /// (see `optim::fused`), giving the same bits; `Ok(false)`, with nothing done, where the tensors do
    /// not allow it. The default never does.
    fn update_fused(
        config: &Self::Config,
        state: &mut Self::State,
        param: &Tensor<T>,
        grad: &Tensor<T>,
        preamble: Preamble<T>,
    ) -> Result<bool> {
        let _ = (config, state, param, grad, preamble);
        Ok(false)
    }

    /// The keys a state dict may hold for one parameter under `config`.
    fn state_keys(config: &Self::Config) -> &'static [&'static str];

    /// One parameter's state as (key, tensor) entries, in the order `state_dict` lists them.
    fn save_state(state: &Self::State) -> Vec<(&'static str, Tensor<T>)>;

    /// One parameter's state from its entries of a state dict (at least one entry, all under
    /// [`UpdateRule::state_keys`]).
    fn load_state(config: &Self::Config, entries: &mut StateLoader<'_, T>) -> Result<Self::State>;

    /// The hyperparameters as torch's parameter group.
    fn param_group(config: &Self::Config) -> StateDict;

    /// The hyperparameters from a parameter group, checked; `own` is the optimizer's current configuration,
    /// for the flags that must not change.
    fn load_param_group(own: &Self::Config, group: &StateDict) -> Result<Self::Config>;
}
