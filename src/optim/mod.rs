//! Optimizers in the shape of `torch.optim`, with torch's exact update rules: [`SGD`], [`Adam`], [`AdamW`]
//! and [`RMSprop`], all behind the [`Optimizer`] trait, and the learning-rate schedulers of
//! [`lr_scheduler`]. The four are one type, [`Optim`], each with its own update rule: they share everything
//! but their hyperparameters, their per-parameter state and the update itself.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::nn::{Linear, MSELoss, Module};
//! use torchlet::optim::{SgdConfig, SGD};
//! use torchlet::Tensor;
//!
//! let model = Linear::<f64>::with_rng(1, 1, true, &mut StdRng::seed_from_u64(0));
//! let mut opt = SGD::with_config(model.parameters(), SgdConfig::new(0.1).momentum(0.5))?;
//! let (x, y) = (Tensor::new([[1.0], [2.0], [3.0]]), Tensor::new([[3.0], [5.0], [7.0]]));
//! for _ in 0..500 {
//!     opt.zero_grad();
//!     MSELoss::new().forward(&model.forward(&x)?, &y)?.backward()?;
//!     opt.step()?;
//! }
//! assert!((model.weight().item()? - 2.0).abs() < 1e-6 && (model.bias().unwrap().item()? - 1.0).abs() < 1e-6);
//! # Ok::<(), torchlet::Error>(())
//! ```

mod adam;
mod adam_config;
mod fused;
pub mod lr_scheduler;
mod param_group;
mod rmsprop;
mod rmsprop_config;
mod rule;
mod sgd;
mod sgd_config;
mod skeleton;
mod state;
mod state_dict;

pub use adam::{Adam, AdamW};
pub use adam_config::AdamConfig;
pub use rmsprop::RMSprop;
pub use rmsprop_config::RmsPropConfig;
pub use sgd::SGD;
pub use sgd_config::SgdConfig;
pub use skeleton::Optim;
pub use state_dict::StateDict;

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

/// What every optimizer offers (`torch.optim.Optimizer` with one parameter group): a step, clearing the
/// gradients, the learning rate and momentum that schedulers drive, and the state as named tensors.
///
/// Code written against the trait works with any optimizer:
///
/// ```
/// use torchlet::optim::{Adam, Optimizer, SGD};
/// use torchlet::{Result, Tensor};
///
/// /// Minimises Σ w² from w = [1, -2] for `steps` steps.
/// fn descend(opt: &mut dyn Optimizer<f64>, steps: usize) -> Result<f64> {
///     let w = opt.params()[0].clone();
///     for _ in 0..steps {
///         opt.zero_grad();
///         w.square()?.sum()?.backward()?;
///         opt.step()?;
///     }
///     w.square()?.sum()?.item()
/// }
///
/// let start = || Tensor::new([1.0, -2.0]).requires_grad_(true);
/// assert!(descend(&mut SGD::new([start()?], 0.1)?, 100)? < 1e-12);
/// assert!(descend(&mut Adam::new([start()?], 0.1)?, 300)? < 1e-3);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Optimizer<T: Element> {
    /// One update of every parameter that has a gradient (`opt.step()`), in place and untracked;
    /// parameters whose gradient is `None` are skipped and get no state.
    fn step(&mut self) -> Result<()>;

    /// Clears every parameter's gradient (`opt.zero_grad()`, which sets them to `None` by default).
    fn zero_grad(&mut self);

    /// The parameters being optimized, in the order given; state entries are numbered by this order.
    fn params(&self) -> &[Tensor<T>];

    /// The learning rate (`opt.param_groups[0]["lr"]`).
    fn lr(&self) -> f64;

    /// Changes the learning rate for the following steps, with the same check as at construction.
    fn set_lr(&mut self, lr: f64) -> Result<()>;

    /// The momentum a scheduler cycles (what torch's `OneCycleLR` sets): SGD's and RMSprop's `momentum`,
    /// Adam's and AdamW's `beta1`.
    fn momentum(&self) -> f64;

    /// Changes the momentum of [`Optimizer::momentum`], with the same check as at construction.
    fn set_momentum(&mut self, momentum: f64) -> Result<()>;

    /// The per-parameter state as named tensors, as torch's `opt.state_dict()["state"]`:
    /// `state.<parameter index>.<key>` with keys such as `step`, `exp_avg`, `exp_avg_sq`,
    /// `max_exp_avg_sq`, `momentum_buffer`, `square_avg`, `grad_avg`. Parameters that never had a
    /// gradient have no entries. As in torch, the buffers are the optimizer's own (handles sharing their
    /// memory, so copy them before changing them); the step counts are new scalar tensors. Hyperparameters
    /// are not included: they are the optimizer's configuration.
    fn state_dict(&self) -> Vec<(String, Tensor<T>)>;

    /// Replaces the state with `state`, as made by [`Optimizer::state_dict`] of an optimizer of the same
    /// kind and configuration over parameters of the same shapes. Everything is checked before anything
    /// changes: names, indices, keys, shapes and completeness. The tensors are copied onto the
    /// parameters' devices.
    fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()>;

    /// The hyperparameters under torch's names, as `opt.state_dict()["param_groups"][0]` holds them for
    /// the one parameter group (without `params`): `lr`, then SGD's `momentum`, `dampening`,
    /// `weight_decay`, `nesterov`, `maximize`; Adam's and AdamW's `betas` (a list of two), `eps`,
    /// `weight_decay`, `amsgrad`, `maximize`; RMSprop's `alpha`, `eps`, `weight_decay`, `momentum`,
    /// `centered`, `maximize`. A scheduler changes `lr` (and the momentum) as training goes, so a resumed
    /// run needs this beside [`Optimizer::state_dict`].
    ///
    /// ```
    /// use torchlet::optim::{Adam, Optimizer};
    /// use torchlet::Tensor;
    /// let opt = Adam::new([Tensor::<f32>::zeros(&[2]).requires_grad_(true)?], 1e-3)?;
    /// let group = opt.param_group();
    /// assert_eq!((group["lr"].as_f64(), group["betas"][1].as_f64()), (Some(1e-3), Some(0.999)));
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn param_group(&self) -> StateDict;

    /// Sets the hyperparameters from a group made by [`Optimizer::param_group`] of an optimizer of the same
    /// type, as `opt.load_state_dict` does for its `param_groups`. The keys must be exactly the type's
    /// (torch's `params`, `foreach`, `differentiable`, `fused` and `capturable` are accepted and ignored),
    /// the values must pass the constructor's checks, and `amsgrad` (Adam, AdamW) and `centered` (RMSprop),
    /// which decide what state the optimizer keeps, must be the optimizer's own. On an error nothing
    /// changes.
    ///
    /// ```
    /// use torchlet::optim::{Optimizer, SgdConfig, SGD};
    /// use torchlet::Tensor;
    /// let w = || Tensor::<f64>::zeros(&[2]).requires_grad_(true);
    /// let trained = SGD::with_config([w()?], SgdConfig::new(0.05).momentum(0.9))?;
    /// let mut fresh = SGD::new([w()?], 0.1)?;
    /// fresh.load_param_group(&trained.param_group())?;
    /// assert_eq!(fresh.config(), trained.config());
    /// let err = fresh.load_param_group(&Default::default()).unwrap_err().to_string();
    /// assert!(err.starts_with("SGD::load_param_group: the keys do not match"), "{err}");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    fn load_param_group(&mut self, group: &StateDict) -> Result<()>;
}
