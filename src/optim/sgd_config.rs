//! The hyperparameters of [`SGD`](super::SGD) and their checks.

use crate::error::{Error, Result};

use super::state::check_non_negative;

/// The hyperparameters of [`SGD`](super::SGD), with `torch.optim.SGD`'s defaults (all off; `lr` 1e-3 in [`Default`]).
///
/// Build it with [`SgdConfig::new`] and the chained setters; it is checked when the optimizer is made.
///
/// ```
/// use torchlet::optim::SgdConfig;
/// let config = SgdConfig::new(0.01).momentum(0.9).nesterov(true);
/// assert_eq!((config.lr, config.momentum, config.dampening, config.nesterov), (0.01, 0.9, 0.0, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// The learning rate; finite and >= 0.
    pub lr: f64,
    /// The momentum factor; finite and >= 0, 0 turns momentum off.
    pub momentum: f64,
    /// Dampening of the gradient's contribution to the momentum buffer (from the second step on).
    pub dampening: f64,
    /// L2 penalty: `weight_decay * θ` is added to the gradient; finite and >= 0.
    pub weight_decay: f64,
    /// Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    pub nesterov: bool,
    /// Ascend instead of descend (the gradient is negated first).
    pub maximize: bool,
}

impl Default for SgdConfig {
    /// torch's defaults, with its default learning rate of 1e-3.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::SgdConfig::default(), torchlet::optim::SgdConfig::new(1e-3));
    /// ```
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl SgdConfig {
    /// Plain SGD with learning rate `lr`: no momentum, dampening, weight decay, nesterov or maximize.
    ///
    /// ```
    /// let c = torchlet::optim::SgdConfig::new(0.1);
    /// assert_eq!((c.lr, c.momentum, c.weight_decay, c.maximize), (0.1, 0.0, 0.0, false));
    /// ```
    pub fn new(lr: f64) -> Self {
        SgdConfig { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false }
    }

    /// Sets the momentum factor.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::SgdConfig::new(0.1).momentum(0.9).momentum, 0.9);
    /// ```
    pub fn momentum(self, momentum: f64) -> Self {
        SgdConfig { momentum, ..self }
    }

    /// Sets the dampening.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::SgdConfig::new(0.1).dampening(0.5).dampening, 0.5);
    /// ```
    pub fn dampening(self, dampening: f64) -> Self {
        SgdConfig { dampening, ..self }
    }

    /// Sets the weight decay (L2 penalty).
    ///
    /// ```
    /// assert_eq!(torchlet::optim::SgdConfig::new(0.1).weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        SgdConfig { weight_decay, ..self }
    }

    /// Turns Nesterov momentum on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::SgdConfig::new(0.1).momentum(0.9).nesterov(true).nesterov);
    /// ```
    pub fn nesterov(self, nesterov: bool) -> Self {
        SgdConfig { nesterov, ..self }
    }

    /// Turns maximisation on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::SgdConfig::new(0.1).maximize(true).maximize);
    /// ```
    pub fn maximize(self, maximize: bool) -> Self {
        SgdConfig { maximize, ..self }
    }

    /// Checks the values as torch does at construction, and also refuses NaN and infinities, which torch's
    /// comparisons let through.
    ///
    /// ```
    /// use torchlet::optim::SgdConfig;
    /// assert!(SgdConfig::new(0.1).validate().is_ok());
    /// let err = SgdConfig::new(-0.1).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "SGD: invalid learning rate: -0.1 (must be finite and >= 0)");
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_non_negative("SGD", "learning rate", self.lr)?;
        check_non_negative("SGD", "momentum value", self.momentum)?;
        check_non_negative("SGD", "weight_decay value", self.weight_decay)?;
        if !self.dampening.is_finite() {
            return Err(Error::invalid("SGD", format!("invalid dampening value: {} (must be finite)", self.dampening)));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "SGD",
                format!(
                    "Nesterov momentum requires a momentum > 0 and zero dampening (got momentum {}, dampening {})",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}
