//! `nn.Dropout`: in training, each element is zeroed with probability `p` and the rest scaled by
//! `1 / (1 - p)`; in evaluation mode, the identity.

use super::Module;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;

/// Dropout (`nn.Dropout(p)`): its masks come from the default generator ([`crate::manual_seed`]), as
/// torch's, or from a seeded stream of its own ([`Dropout::with_seed`]).
///
/// ```
/// use torchlet::nn::{Dropout, Module};
/// use torchlet::Tensor;
/// torchlet::manual_seed(0);
/// let mut drop = Dropout::new(0.5);
/// let y: Tensor<f64> = drop.forward(&Tensor::ones(&[1000]))?;
/// assert!(y.to_vec()?.iter().all(|&v| v == 0.0 || v == 2.0));
/// Module::<f64>::eval(&mut drop);
/// assert_eq!(drop.forward(&Tensor::<f64>::ones(&[3]))?.to_vec()?, vec![1.0; 3]);
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: bool,
    /// The layer's own stream; `None` draws from the default generator.
    rng: Option<Mutex<StdRng>>,
}

impl Dropout {
    /// Dropout with probability `p`, drawing its masks from the default generator.
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]`, with [`Dropout::try_new`]'s message, as torch raises in the
    /// constructor: `Dropout: dropout probability has to be between 0 and 1, but got 1.5`.
    pub fn new(p: f64) -> Self {
        Self::try_new(p).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Dropout with probability `p` in `[0, 1]`, drawing its masks from the default generator; an error
    /// naming `p` otherwise.
    ///
    /// ```
    /// let err = torchlet::nn::Dropout::try_new(1.5).unwrap_err();
    /// assert_eq!(err.to_string(), "Dropout: dropout probability has to be between 0 and 1, but got 1.5");
    /// ```
    pub fn try_new(p: f64) -> Result<Self> {
        check_probability(p)?;
        Ok(Dropout { p, training: true, rng: None })
    }

    /// Dropout with probability `p` in `[0, 1]`, drawing its masks from a stream of its own seeded with
    /// `seed`, so its masks do not depend on what else draws from the default generator.
    pub fn with_seed(p: f64, seed: u64) -> Result<Self> {
        check_probability(p)?;
        Ok(Dropout { p, training: true, rng: Some(Mutex::new(StdRng::seed_from_u64(seed))) })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Whether the layer is in training mode (`dropout.training`).
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Element> Module<T> for Dropout {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        if self.p == 1.0 {
            return x.mul_scalar(T::zero());
        }
        let scale = T::from_f64_lossy(1.0 / (1.0 - self.p));
        let draw = |rng: &mut StdRng| -> Vec<T> {
            (0..x.numel()).map(|_| if rng.random::<f64>() < self.p { T::zero() } else { scale }).collect()
        };
        let mask = match &self.rng {
            Some(own) => draw(&mut own.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
            None => crate::random::with_default_generator(draw),
        };
        let mask = Tensor::from_vec(mask, x.shape())?.to(x.device())?;
        x.mul(&mask)
    }

    fn set_training(&mut self, mode: bool) {
        self.training = mode;
    }
}

/// Fails naming `p` unless it is a probability.
fn check_probability(p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        return Ok(());
    }
    Err(Error::invalid("Dropout", format!("dropout probability has to be between 0 and 1, but got {p}")))
}
