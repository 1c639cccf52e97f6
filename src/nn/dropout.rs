//! `nn.Dropout`: in training, each element is zeroed with probability `p` and the rest scaled by
//! `1 / (1 - p)`; in evaluation mode, the identity.

use super::Module;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;

/// Dropout with its own seeded rng, so runs are reproducible (`nn.Dropout(p)`).
///
/// ```
/// use torchlet::nn::{Dropout, Module};
/// use torchlet::Tensor;
/// let mut drop = Dropout::new(0.5, 0)?;
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
    rng: Mutex<StdRng>,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1]`, drawing masks from an rng seeded with `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                "Dropout",
                format!("dropout probability has to be between 0 and 1, but got {p}"),
            ));
        }
        Ok(Dropout { p, training: true, rng: Mutex::new(StdRng::seed_from_u64(seed)) })
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
        let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mask: Vec<T> =
            (0..x.numel()).map(|_| if rng.random::<f64>() < self.p { T::zero() } else { scale }).collect();
        let mask = Tensor::from_vec(mask, x.shape())?.to(x.device())?;
        x.mul(&mask)
    }

    fn train(&mut self, mode: bool) {
        self.training = mode;
    }
}
