//! Stochastic gradient descent with torch's exact update rule.

use crate::autograd::no_grad;
use crate::element::Element;
use crate::error::Result;
use crate::tensor::Tensor;

use super::param_group::{sgd_from_group, sgd_group};
use super::state::{check_params, entry_name, grad_of, group_entries, take_buffer};
use super::{Optimizer, SgdConfig, StateDict};

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
/// # Ok::<(), torchlet::Error>(())
/// ```
// torch's name, which users of this library will look for, outweighs Rust's acronym convention.
#[allow(clippy::upper_case_acronyms)]
pub struct SGD<T: Element> {
    params: Vec<Tensor<T>>,
    config: SgdConfig,
    /// One per parameter, created at its first update when momentum is on.
    momentum_buffers: Vec<Option<Tensor<T>>>,
}

/// The hyperparameters in the element type, converted once per step.
struct Coeffs<T> {
    lr: T,
    momentum: T,
    /// `1 - dampening`, computed in f64 as torch computes its `alpha`.
    keep: T,
    weight_decay: T,
    use_momentum: bool,
    use_weight_decay: bool,
    nesterov: bool,
    maximize: bool,
}

impl<T: Element> SGD<T> {
    /// Plain SGD over `params` with learning rate `lr` (`optim.SGD(params, lr=lr)`).
    ///
    /// Fails for an invalid `lr`, an empty parameter list, a non-leaf parameter or one listed twice.
    ///
    /// ```
    /// use torchlet::optim::SGD;
    /// use torchlet::Tensor;
    /// let w = Tensor::<f64>::zeros(&[2]).requires_grad_(true)?;
    /// assert!(SGD::new([w.clone()], 0.01).is_ok());
    /// let err = SGD::new([w], f64::NAN).err().unwrap();
    /// assert_eq!(err.to_string(), "SGD: invalid learning rate: NaN (must be finite and >= 0)");
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn new(params: impl IntoIterator<Item = Tensor<T>>, lr: f64) -> Result<Self> {
        Self::with_config(params, SgdConfig::new(lr))
    }

    /// SGD over `params` with all of torch's options (`optim.SGD(params, lr, momentum, ...)`).
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
    pub fn with_config(params: impl IntoIterator<Item = Tensor<T>>, config: SgdConfig) -> Result<Self> {
        config.validate()?;
        let params = check_params("SGD", params)?;
        let momentum_buffers = vec![None; params.len()];
        Ok(SGD { params, config, momentum_buffers })
    }

    /// The parameters being optimized, in the order given.
    ///
    /// ```
    /// use torchlet::{optim::SGD, Tensor};
    /// let opt = SGD::new([Tensor::<f64>::zeros(&[3]).requires_grad_(true)?], 0.1)?;
    /// assert_eq!(opt.params()[0].shape(), &[3]);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    /// The hyperparameters.
    ///
    /// ```
    /// use torchlet::{optim::SGD, Tensor};
    /// let opt = SGD::new([Tensor::<f64>::zeros(&[3]).requires_grad_(true)?], 0.1)?;
    /// assert_eq!(opt.config().lr, 0.1);
    /// # Ok::<(), torchlet::Error>(())
    /// ```
    pub fn config(&self) -> &SgdConfig {
        &self.config
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
        SgdConfig { lr, ..self.config }.validate()?;
        self.config.lr = lr;
        Ok(())
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
        self.momentum_buffers.get(index)?.as_ref()
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
        for p in &self.params {
            p.zero_grad();
        }
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
        let c = &self.config;
        let coeffs = Coeffs {
            lr: T::from_f64_lossy(c.lr),
            momentum: T::from_f64_lossy(c.momentum),
            keep: T::from_f64_lossy(1.0 - c.dampening),
            weight_decay: T::from_f64_lossy(c.weight_decay),
            use_momentum: c.momentum != 0.0,
            use_weight_decay: c.weight_decay != 0.0,
            nesterov: c.nesterov,
            maximize: c.maximize,
        };
        no_grad(|| {
            for (p, slot) in self.params.iter().zip(&mut self.momentum_buffers) {
                let Some(grad) = grad_of("SGD::step", p)? else { continue };
                tensor_update(p, &grad, slot, &coeffs)?;
            }
            Ok(())
        })
    }
}

/// The trait's view of SGD: its inherent methods, torch's `momentum_buffer` state, and no step counter
/// (torch's SGD keeps none).
impl<T: Element> Optimizer<T> for SGD<T> {
    fn step(&mut self) -> Result<()> {
        SGD::step(self)
    }

    fn zero_grad(&mut self) {
        SGD::zero_grad(self)
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        SGD::set_lr(self, lr)
    }

    fn momentum(&self) -> f64 {
        self.config.momentum
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        SgdConfig { momentum, ..self.config }.validate()?;
        self.config.momentum = momentum;
        Ok(())
    }

    fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
        let buffers = self.momentum_buffers.iter().enumerate();
        buffers.filter_map(|(i, b)| Some((entry_name(i, "momentum_buffer"), b.clone()?))).collect()
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor<T>)]) -> Result<()> {
        let mut grouped = group_entries("SGD::load_state_dict", state, self.params.len(), &["momentum_buffer"])?;
        let mut buffers = Vec::with_capacity(self.params.len());
        for (i, (entries, p)) in grouped.iter_mut().zip(&self.params).enumerate() {
            buffers.push(take_buffer("SGD::load_state_dict", entries, i, "momentum_buffer", p)?);
        }
        self.momentum_buffers = buffers;
        Ok(())
    }

    fn param_group(&self) -> StateDict {
        sgd_group(&self.config)
    }

    fn load_param_group(&mut self, group: &StateDict) -> Result<()> {
        self.config = sgd_from_group(group)?;
        Ok(())
    }
}

/// The update rule as the sequence of tensor ops torch's `_single_tensor_sgd` runs, for any device and
/// layout. Runs under `no_grad`.
fn tensor_update<T: Element>(
    p: &Tensor<T>,
    grad: &Tensor<T>,
    slot: &mut Option<Tensor<T>>,
    c: &Coeffs<T>,
) -> Result<()> {
    let mut g = if c.maximize { grad.neg()? } else { grad.clone() };
    if c.use_weight_decay {
        g = g.add(&p.mul_scalar(c.weight_decay)?)?;
    }
    if c.use_momentum {
        let buf = match slot {
            None => slot.insert(g.deep_clone()?),
            Some(buf) => {
                buf.mul_scalar_(c.momentum)?.add_(&g.mul_scalar(c.keep)?)?;
                buf
            }
        };
        g = if c.nesterov { g.add(&buf.mul_scalar(c.momentum)?)? } else { buf.clone() };
    }
    p.add_scaled_(&g, -c.lr)?;
    Ok(())
}
