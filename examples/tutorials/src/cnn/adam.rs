//! Adam's update written out, for the scratch models: the same rule as `torch.optim.Adam` with its defaults
//! (betas 0.9 and 0.999, eps 1e-8, no weight decay), and optionally its L2 weight decay and a learning rate
//! and β1 changed between steps (as T10b's one-cycle schedule changes them).

use torchlet::element::Element;
use torchlet::error::{Error, Result};
use torchlet::tensor::Tensor;

/// Adam for parameters whose gradients the caller derives, one moment pair per parameter.
///
/// At step t, for a parameter θ with gradient g: `m = β1·m + (1 − β1)·g`, `v = β2·v + (1 − β2)·g²`,
/// `θ = θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)`, the bias corrections as torch applies them
/// (with the β1 of the step, when a schedule changes it). With weight decay `λ`, `g` is first replaced by
/// `g + λ·θ`, torch's Adam (not AdamW).
///
/// ```
/// use torchlet::Tensor;
/// use torchlet_tutorials::cnn::HandAdam;
/// let theta = Tensor::<f64>::new([1.0, -1.0]);
/// let mut adam = HandAdam::new(1, 0.1)?;
/// // The first step moves each entry by lr against the sign of its gradient (m/√v = ±1 after correction).
/// adam.step(&[&theta], &[Tensor::new([3.0, -0.5])])?;
/// let moved = theta.to_vec()?;
/// assert!((moved[0] - 0.9).abs() < 1e-7 && (moved[1] + 0.9).abs() < 1e-7);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HandAdam<T: Element> {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    step: i32,
    moments: Vec<Option<(Tensor<T>, Tensor<T>)>>,
}

impl<T: Element> HandAdam<T> {
    /// Adam for `count` parameters at learning rate `lr`, with torch's other defaults.
    pub fn new(count: usize, lr: f64) -> Result<Self> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid("HandAdam", format!("invalid learning rate: {lr}")));
        }
        Ok(HandAdam { lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, step: 0, moments: vec![None; count] })
    }

    /// The same optimizer with the decay rates `betas` (torch's `Adam(..., betas=(β1, β2))`).
    pub fn with_betas(self, beta1: f64, beta2: f64) -> Self {
        HandAdam { betas: (beta1, beta2), ..self }
    }

    /// The same optimizer with L2 weight decay `weight_decay` (torch's `Adam(..., weight_decay=...)`).
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        HandAdam { weight_decay, ..self }
    }

    /// Sets the learning rate of the next steps (a scheduler's `group['lr']`).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Sets β1 of the next steps (what `OneCycleLR` cycles as Adam's momentum).
    pub fn set_beta1(&mut self, beta1: f64) {
        self.betas.0 = beta1;
    }

    /// One update of each of `params` (in place) from its gradient in `grads`, in the same order every step.
    pub fn step(&mut self, params: &[&Tensor<T>], grads: &[Tensor<T>]) -> Result<()> {
        if params.len() != self.moments.len() || grads.len() != params.len() {
            return Err(Error::invalid(
                "HandAdam::step",
                format!("{} parameters and {} gradients for {} moments", params.len(), grads.len(), self.moments.len()),
            ));
        }
        self.step += 1;
        let (b1, b2) = self.betas;
        let step_size = T::from_f64_lossy(self.lr / (1.0 - b1.powi(self.step)));
        let root_correction = T::from_f64_lossy((1.0 - b2.powi(self.step)).sqrt());
        // The coefficients in f64 first, as torch takes them from Python floats.
        let (keep1, take1) = (T::from_f64_lossy(b1), T::from_f64_lossy(1.0 - b1));
        let (keep2, take2) = (T::from_f64_lossy(b2), T::from_f64_lossy(1.0 - b2));
        let decay = T::from_f64_lossy(self.weight_decay);
        for ((p, g), slot) in params.iter().zip(grads).zip(&mut self.moments) {
            let decayed;
            let g = if self.weight_decay != 0.0 {
                decayed = g.add(&p.mul_scalar(decay)?)?;
                &decayed
            } else {
                g
            };
            let (m, v) = match slot.take() {
                Some((m, v)) => (m, v),
                None => (g.zeros_like()?, g.zeros_like()?),
            };
            let m = m.mul_scalar(keep1)?.add(&g.mul_scalar(take1)?)?;
            let v = v.mul_scalar(keep2)?.add(&g.mul(g)?.mul_scalar(take2)?)?;
            let denom = v.sqrt()?.div_scalar(root_correction)?.add_scalar(T::from_f64_lossy(self.eps))?;
            p.sub_(&m.div(&denom)?.mul_scalar(step_size)?)?;
            *slot = Some((m, v));
        }
        Ok(())
    }
}
