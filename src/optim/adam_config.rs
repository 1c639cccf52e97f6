//! The hyperparameters of [`Adam`](super::Adam) and [`AdamW`](super::AdamW) and their checks.

use crate::error::{Error, Result};

use super::state::check_non_negative;

/// The hyperparameters of [`Adam`](super::Adam) and [`AdamW`](super::AdamW), with `torch.optim.Adam`'s
/// defaults from [`AdamConfig::new`] and `torch.optim.AdamW`'s (weight decay 0.01) from
/// [`AdamConfig::adamw`].
///
/// Build it with a constructor and the chained setters; it is checked when the optimizer is made.
///
/// ```
/// use torchlet::optim::AdamConfig;
/// let config = AdamConfig::new(1e-3).betas(0.8, 0.99).amsgrad(true);
/// assert_eq!((config.betas, config.eps, config.weight_decay, config.amsgrad), ((0.8, 0.99), 1e-8, 0.0, true));
/// assert_eq!(AdamConfig::adamw(1e-3).weight_decay, 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// The learning rate; finite and >= 0.
    pub lr: f64,
    /// The decay rates of the running averages of the gradient and of its square; each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability; finite and >= 0.
    pub eps: f64,
    /// Adam: L2 penalty added to the gradient, `g + weight_decay·θ`. AdamW: decoupled decay, the
    /// parameter first scaled by `1 − lr·weight_decay`. Finite and >= 0.
    pub weight_decay: f64,
    /// The AMSGrad variant: divide by the running maximum of the second moment.
    pub amsgrad: bool,
    /// Ascend instead of descend (the gradient is negated first).
    pub maximize: bool,
}

impl Default for AdamConfig {
    /// torch's Adam defaults, with its default learning rate of 1e-3.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::AdamConfig::default(), torchlet::optim::AdamConfig::new(1e-3));
    /// ```
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl AdamConfig {
    /// Adam with learning rate `lr` and torch's other defaults: betas (0.9, 0.999), eps 1e-8, no weight
    /// decay, no AMSGrad, minimising.
    ///
    /// ```
    /// let c = torchlet::optim::AdamConfig::new(0.01);
    /// assert_eq!((c.lr, c.betas, c.weight_decay, c.maximize), (0.01, (0.9, 0.999), 0.0, false));
    /// ```
    pub fn new(lr: f64) -> Self {
        AdamConfig { lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, amsgrad: false, maximize: false }
    }

    /// torch's AdamW defaults with learning rate `lr`: as [`AdamConfig::new`] but weight decay 0.01.
    ///
    /// ```
    /// let c = torchlet::optim::AdamConfig::adamw(1e-3);
    /// assert_eq!((c.betas, c.eps, c.weight_decay), ((0.9, 0.999), 1e-8, 0.01));
    /// ```
    pub fn adamw(lr: f64) -> Self {
        AdamConfig { weight_decay: 0.01, ..Self::new(lr) }
    }

    /// Sets the two decay rates (torch's `betas=(beta1, beta2)`).
    ///
    /// ```
    /// assert_eq!(torchlet::optim::AdamConfig::new(0.1).betas(0.5, 0.9).betas, (0.5, 0.9));
    /// ```
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        AdamConfig { betas: (beta1, beta2), ..self }
    }

    /// Sets eps.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::AdamConfig::new(0.1).eps(1e-6).eps, 1e-6);
    /// ```
    pub fn eps(self, eps: f64) -> Self {
        AdamConfig { eps, ..self }
    }

    /// Sets the weight decay.
    ///
    /// ```
    /// assert_eq!(torchlet::optim::AdamConfig::new(0.1).weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        AdamConfig { weight_decay, ..self }
    }

    /// Turns AMSGrad on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::AdamConfig::new(0.1).amsgrad(true).amsgrad);
    /// ```
    pub fn amsgrad(self, amsgrad: bool) -> Self {
        AdamConfig { amsgrad, ..self }
    }

    /// Turns maximisation on or off.
    ///
    /// ```
    /// assert!(torchlet::optim::AdamConfig::new(0.1).maximize(true).maximize);
    /// ```
    pub fn maximize(self, maximize: bool) -> Self {
        AdamConfig { maximize, ..self }
    }

    /// Checks the values as torch does at construction, naming the optimizer (`"Adam"` or `"AdamW"`);
    /// NaN and infinities, which torch's comparisons let through, are refused too.
    ///
    /// ```
    /// use torchlet::optim::AdamConfig;
    /// assert!(AdamConfig::new(0.1).validate("Adam").is_ok());
    /// let err = AdamConfig::new(0.1).betas(1.0, 0.999).validate("AdamW").unwrap_err();
    /// assert_eq!(err.to_string(), "AdamW: invalid beta parameter at index 0: 1 (must be in [0, 1))");
    /// ```
    pub fn validate(&self, op: &'static str) -> Result<()> {
        check_non_negative(op, "learning rate", self.lr)?;
        check_non_negative(op, "epsilon value", self.eps)?;
        for (index, beta) in [self.betas.0, self.betas.1].into_iter().enumerate() {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(
                    op,
                    format!("invalid beta parameter at index {index}: {beta} (must be in [0, 1))"),
                ));
            }
        }
        check_non_negative(op, "weight_decay value", self.weight_decay)
    }
}
