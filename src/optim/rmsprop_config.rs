//! The hyperparameters of [`RMSprop`](super::RMSprop) and their checks.

use crate::error::Result;

use super::state::check_non_negative;

/// The hyperparameters of [`RMSprop`](super::RMSprop), with `torch.optim.RMSprop`'s defaults
/// (`lr` 1e-2 in [`Default`]).
///
/// Build it with [`RmsPropConfig::new`] and the chained setters; it is checked when the optimizer is made.
///
/// ```
/// use torchlet::optim::RmsPropConfig;
/// let config = RmsPropConfig::new(1e-3).momentum(0.9).centered(true);
/// assert_eq!((config.alpha, config.eps, config.momentum, config.centered), (0.99, 1e-8, 0.9, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// The learning rate; finite and >= 0.
    pub lr: f64,
    /// The smoothing constant of the running average of the squared gradient; finite and >= 0.
    pub alpha: f64,
    /// Added to the denominator for numerical stability; finite and >= 0.
    pub eps: f64,
    /// L2 penalty: `weight_decay·θ` is added to the gradient; finite and >= 0.
    pub weight_decay: f64,
    /// The momentum factor; finite and >= 0, 0 turns momentum off.
    pub momentum: f64,
    /// Normalise by an estimate of the gradient's variance instead of its second moment.
    pub centered: bool,
    /// Ascend instead of descend (the gradient is negated first).
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    /// torch's defaults, with its default learning rate of 1e-2.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::RmsPropConfig::default(), torchlet::optim::RmsPropConfig::new(1e-2));
    /// ```
    fn default() -> Self {
        Self::new(1e-2)
    }
}

impl RmsPropConfig {
    /// RMSprop with learning rate `lr`: alpha 0.99, eps 1e-8, no weight decay, momentum, centering or
    /// maximize.
    ///
    /// ```
    /// let c = torchlet::optim::RmsPropConfig::new(0.1);
    /// assert_eq!((c.lr, c.alpha, c.weight_decay, c.momentum, c.centered), (0.1, 0.99, 0.0, 0.0, false));
    /// ```
    pub fn new(lr: f64) -> Self {
        RmsPropConfig { lr, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false, maximize: false }
    }

    /// Sets the smoothing constant.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::RmsPropConfig::new(0.1).alpha(0.9).alpha, 0.9);
    /// ```
    pub fn alpha(self, alpha: f64) -> Self {
        RmsPropConfig { alpha, ..self }
    }

    /// Sets eps.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::RmsPropConfig::new(0.1).eps(1e-6).eps, 1e-6);
    /// ```
    pub fn eps(self, eps: f64) -> Self {
        RmsPropConfig { eps, ..self }
    }

    /// Sets the weight decay (L2 penalty).
    ///
    /// ```
    /// assert_eq!(torchlet::optim::RmsPropConfig::new(0.1).weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        RmsPropConfig { weight_decay, ..self }
    }

    /// Sets the momentum factor.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::RmsPropConfig::new(0.1).momentum(0.9).momentum, 0.9);
    /// ```
    pub fn momentum(self, momentum: f64) -> Self {
        RmsPropConfig { momentum, ..self }
    }

    /// Turns centering on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::RmsPropConfig::new(0.1).centered(true).centered);
    /// ```
    pub fn centered(self, centered: bool) -> Self {
        RmsPropConfig { centered, ..self }
    }

    /// Turns maximisation on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::RmsPropConfig::new(0.1).maximize(true).maximize);
    /// ```
    pub fn maximize(self, maximize: bool) -> Self {
        RmsPropConfig { maximize, ..self }
    }

    /// Checks the values as torch does at construction, and also refuses NaN and infinities, which torch's
    /// comparisons let through.
    ///
    /// ```
    /// use torchlet::optim::RmsPropConfig;
    /// assert!(RmsPropConfig::new(0.1).validate().is_ok());
    /// let err = RmsPropConfig::new(0.1).alpha(-0.5).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "RMSprop: invalid alpha value: -0.5 (must be finite and >= 0)");
    /// ```
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "RMSprop";
        check_non_negative(OP, "learning rate", self.lr)?;
        check_non_negative(OP, "epsilon value", self.eps)?;
        check_non_negative(OP, "momentum value", self.momentum)?;
        check_non_negative(OP, "weight_decay value", self.weight_decay)?;
        check_non_negative(OP, "alpha value", self.alpha)
    }
}
