//! Stochastic gradient descent with torch's exact update rule.

use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::fused::with_slices;
use super::param_group::{sgd_from_group, sgd_group};
use super::rule::{names, Names, UpdateRule};
use super::state::StateLoader;
use super::{Optim, SgdConfig, StateDict};
use crate::storage::cpu::optim::{self, Preamble, Sgd};

/// Stochastic gradient descent (`torch.optim.SGD`), one parameter group.
///
/// Per parameter θ with gradient g, at step t: `g = -g` if maximize; `g += weight_decay·θ` if weight decay;
/// with momentum, `buf = g` at the first step and `buf = momentum·buf + (1 − dampening)·g` after, then
/// `g = g + momentum·buf` (nesterov) or `g = buf`; finally `θ -= lr·g`. Parameters without a gradient are
/// skipped, and their momentum does not advance.
///
/// ```
/// use torchlet::optim::SGD;
/// use torchlet::Tensor;
/// let w = Tensor::new([1.0, -2.0]).requires_grad_(true)?;
/// let mut opt = SGD::new([w.clone()], 0.1)?;
/// w.square()?.sum()?.backward()?; // grad = 2w
/// opt.step()?;
/// assert_eq!(w.to_vec()?, vec![0.8, -1.6]);
/// opt.zero_grad();
/// assert!(w.grad().is_none());
/// let err = SGD::new([w], f64::NAN).err().unwrap();
/// assert_eq!(err.to_string(), "SGD: invalid learning rate: NaN (must be finite and >= 0)");
/// # Ok::<(), torchlet::Error>(())
/// ```
///
/// With all of torch's options (`optim.SGD(params, lr, momentum, ...)`):
///
/// ```
/// use torchlet::optim::{SgdConfig, SGD};
/// use torchlet::Tensor;
/// let w = Tensor::<f32>::zeros(&[2]).requires_grad_(true)?;
/// let opt = SGD::with_config([w.clone()], SgdConfig::new(0.01).momentum(0.9).nesterov(true))?;
/// assert_eq!(opt.config().momentum, 0.9);
/// assert!(SGD::with_config([w], SgdConfig::new(0.01).nesterov(true)).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
// torch's name, which users of this library will look for, outweighs Rust's acronym convention.
#[allow(clippy::upper_case_acronyms)]
pub type SGD<T> = Optim<T, SgdRule>;

/// SGD's update rule (see [`SGD`]). Its per-parameter state is the momentum buffer, made at the first
/// update with momentum on; torch's SGD keeps no step counter.
#[derive(Debug, Clone, Copy)]
pub struct SgdRule;

impl<T: Element> UpdateRule<T> for SgdRule {
    type Config = SgdConfig;
    type State = Option<Tensor<T>>;
    const NAMES: Names = names!("SGD");

    fn default_config(lr: f64) -> SgdConfig {
        SgdConfig::new(lr)
    }

    fn validate(config: &SgdConfig) -> Result<()> {
        config.validate()
    }

    fn lr(config: &SgdConfig) -> f64 {
        config.lr
    }

    fn with_lr(config: SgdConfig, lr: f64) -> SgdConfig {
        SgdConfig { lr, ..config }
    }

    fn momentum(config: &SgdConfig) -> f64 {
        config.momentum
    }

    fn with_momentum(config: SgdConfig, momentum: f64) -> SgdConfig {
        SgdConfig { momentum, ..config }
    }

    fn maximize(config: &SgdConfig) -> bool {
        config.maximize
    }

    fn l2_weight_decay(config: &SgdConfig) -> f64 {
        config.weight_decay
    }

    fn new_state(_: &SgdConfig, _: &Tensor<T>) -> Result<Option<Tensor<T>>> {
        Ok(None)
    }

    /// The tensor ops of torch's `_single_tensor_sgd` after its preamble, in its order.
    fn update(c: &SgdConfig, buffer: &mut Option<Tensor<T>>, p: &Tensor<T>, grad: &Tensor<T>) -> Result<()> {
        let t = T::from_f64_lossy;
        if c.momentum == 0.0 {
            p.add_scaled_(grad, -t(c.lr))?;
            return Ok(());
        }
        let momentum = t(c.momentum);
        let buf = match buffer {
            None => buffer.insert(grad.deep_clone()?),
            Some(buf) => {
                // buf.mul_(momentum).add_(grad, alpha=1 - dampening), alpha computed in f64 as torch does.
                buf.mul_scalar_(momentum)?.add_scaled_(grad, t(1.0 - c.dampening))?;
                buf
            }
        };
        if c.nesterov {
            // grad.add(buf, alpha=momentum): the scaled buffer plus the gradient.
            let step = buf.mul_scalar(momentum)?;
            step.add_(grad)?;
            p.add_scaled_(&step, -t(c.lr))?;
        } else {
            p.add_scaled_(buf, -t(c.lr))?;
        }
        Ok(())
    }

    fn update_fused(
        c: &SgdConfig,
        buffer: &mut Option<Tensor<T>>,
        p: &Tensor<T>,
        grad: &Tensor<T>,
        pre: Preamble<T>,
    ) -> Result<bool> {
        let t = T::from_f64_lossy;
        let rule = |first| Sgd {
            neg_lr: -t(c.lr),
            momentum: t(c.momentum),
            undamped: t(1.0 - c.dampening),
            nesterov: c.nesterov,
            first,
        };
        if c.momentum == 0.0 {
            return Ok(with_slices(p, grad, [], |p, g, []| optim::sgd(pre, rule(false), p, g, None)).is_some());
        }
        // The first step makes the buffer (the tensor ops clone the gradient into it; here it is written).
        let first = buffer.is_none();
        let buf = match buffer {
            Some(buf) => buf.clone(),
            None => p.zeros_like()?,
        };
        let done = with_slices(p, grad, [&buf], |p, g, [b]| optim::sgd(pre, rule(first), p, g, Some(b))).is_some();
        if done && first {
            *buffer = Some(buf);
        }
        Ok(done)
    }

    fn state_keys(_: &SgdConfig) -> &'static [&'static str] {
        &["momentum_buffer"]
    }

    fn save_state(buffer: &Option<Tensor<T>>) -> Vec<(&'static str, Tensor<T>)> {
        buffer.iter().map(|b| ("momentum_buffer", b.clone())).collect()
    }

    fn load_state(_: &SgdConfig, entries: &mut StateLoader<'_, T>) -> Result<Option<Tensor<T>>> {
        entries.optional_buffer("momentum_buffer")
    }

    fn param_group(config: &SgdConfig) -> StateDict {
        sgd_group(config)
    }

    fn load_param_group(_: &SgdConfig, group: &StateDict) -> Result<SgdConfig> {
        sgd_from_group(group)
    }
}

/// SGD's own methods beside the [`Optimizer`](super::Optimizer) trait's, so that the tutorials' loops need
/// no trait import.
impl<T: Element> SGD<T> {
    /// The parameters being optimized, in the order given.
    ///
    /// ```
    /// use torchlet::{optim::SGD, Tensor};
    /// let opt = SGD::new([Tensor::<f64>::zeros(&[3]).requires_grad_(true)?], 0.1)?;
    /// assert_eq!(opt.params()[0].shape(), &[3]);
    /// assert_eq!(opt.config().lr, 0.1);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn params(&self) -> &[Tensor<T>] {
        super::Optimizer::params(self)
    }

    /// Changes the learning rate (`for g in opt.param_groups: g['lr'] = lr`), with the same check as at
    /// construction.
    ///
    /// ```
    /// use torchlet::{optim::SGD, Tensor};
    /// let mut opt = SGD::new([Tensor::<f64>::zeros(&[3]).requires_grad_(true)?], 0.1)?;
    /// opt.set_lr(0.05)?;
    /// assert_eq!(opt.config().lr, 0.05);
    /// assert!(opt.set_lr(-1.0).is_err());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.change_lr(lr)
    }

    /// The momentum buffer of parameter `index` (`opt.state[p]['momentum_buffer']`); `None` before its
    /// first update or without momentum.
    ///
    /// ```
    /// use torchlet::optim::{SgdConfig, SGD};
    /// use torchlet::Tensor;
    /// let w = Tensor::new([1.0]).requires_grad_(true)?;
    /// let mut opt = SGD::with_config([w.clone()], SgdConfig::new(0.1).momentum(0.9))?;
    /// assert!(opt.momentum_buffer(0).is_none());
    /// w.sum()?.backward()?;
    /// opt.step()?;
    /// assert_eq!(opt.momentum_buffer(0).unwrap().to_vec()?, vec![1.0]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn momentum_buffer(&self, index: usize) -> Option<&Tensor<T>> {
        self.state(index)?.as_ref()
    }

    /// Clears every parameter's gradient (`opt.zero_grad()`, which sets them to `None` by default).
    ///
    /// ```
    /// use torchlet::{optim::SGD, Tensor};
    /// let w = Tensor::new([1.0]).requires_grad_(true)?;
    /// let opt = SGD::new([w.clone()], 0.1)?;
    /// w.sum()?.backward()?;
    /// opt.zero_grad();
    /// assert!(w.grad().is_none());
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn zero_grad(&self) {
        self.zero_grads();
    }

    /// One update of every parameter that has a gradient (`opt.step()`), in place and untracked.
    ///
    /// ```
    /// use torchlet::optim::{SgdConfig, SGD};
    /// use torchlet::Tensor;
    /// let w = Tensor::new([1.0]).requires_grad_(true)?;
    /// let mut opt = SGD::with_config([w.clone()], SgdConfig::new(0.5).maximize(true))?;
    /// w.sum()?.backward()?; // grad = 1
    /// opt.step()?;
    /// assert_eq!(w.to_vec()?, vec![1.5]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn step(&mut self) -> Result<()> {
        self.step_all()
    }
}
