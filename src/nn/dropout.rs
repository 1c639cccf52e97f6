//! `nn.Dropout` and `nn.Dropout2d`: in training, each element (Dropout) or each whole channel (Dropout2d)
//! is zeroed with probability `p` and the rest scaled by `1 / (1 - p)`; in evaluation mode, the identity.

use super::Module;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;

/// Where a dropout layer's masks come from, and how one is drawn: both layers draw the same way, one
/// uniform number per kept-or-dropped unit.
#[derive(Debug)]
struct Masks {
    op: &'static str,
    p: f64,
    /// The layer's own stream; `None` draws from the default generator.
    rng: Option<Mutex<StdRng>>,
}

impl Masks {
    /// Masks with probability `p` in `[0, 1]` (an error naming `op` and `p` otherwise), from the default
    /// generator or, given a seed, from a stream of their own.
    fn new(op: &'static str, p: f64, seed: Option<u64>) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(op, format!("dropout probability has to be between 0 and 1, but got {p}")));
        }
        Ok(Masks { op, p, rng: seed.map(|s| Mutex::new(StdRng::seed_from_u64(s))) })
    }

    /// `x · mask`, `mask` of `shape` (which broadcasts to `x`'s) holding 0 with probability `p` and
    /// `1 / (1 - p)` otherwise; `x` itself when nothing is dropped, `x · 0` when everything is (so a NaN
    /// stays NaN, as torch's `input * 0`).
    fn apply<T: Element>(&self, x: &Tensor<T>, shape: &[usize]) -> Result<Tensor<T>> {
        if self.p == 0.0 {
            return Ok(x.clone());
        }
        if self.p == 1.0 {
            return x.mul_scalar(T::zero());
        }
        let scale = T::from_f64_lossy(1.0 / (1.0 - self.p));
        let count = shape.iter().product();
        let draw = |rng: &mut StdRng| -> Vec<T> {
            (0..count).map(|_| if rng.random::<f64>() < self.p { T::zero() } else { scale }).collect()
        };
        let mask = match &self.rng {
            Some(own) => draw(&mut own.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
            None => crate::random::with_default_generator(draw),
        };
        x.mul(&Tensor::from_vec(mask, shape)?.to(x.device())?)
    }
}

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
    masks: Masks,
    training: bool,
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
        Ok(Dropout { masks: Masks::new("Dropout", p, None)?, training: true })
    }

    /// Dropout with probability `p` in `[0, 1]`, drawing its masks from a stream of its own seeded with
    /// `seed`, so its masks do not depend on what else draws from the default generator.
    pub fn with_seed(p: f64, seed: u64) -> Result<Self> {
        Ok(Dropout { masks: Masks::new("Dropout", p, Some(seed))?, training: true })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.masks.p
    }

    /// Whether the layer is in training mode (`dropout.training`).
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Element> Module<T> for Dropout {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if !self.training {
            return Ok(x.clone());
        }
        self.masks.apply(x, x.shape())
    }

    fn set_training(&mut self, mode: bool) {
        self.training = mode;
    }
}

/// Channel dropout (`nn.Dropout2d(p)`): in training, each channel of each sample — the `[H, W]` plane
/// `x[n, c]` of an input `[N, C, H, W]` — is zeroed as a whole with probability `p` and the others are
/// scaled by `1 / (1 - p)`, so neighbouring pixels, which a convolution makes alike, are dropped together.
/// A 3-D input is `[N, C, L]`, one draw per `x[n, c]`, as torch's `dropout2d` reads it; any other rank is
/// an error (torch warns, and says it will refuse them). Masks come from the default generator or, with
/// [`Dropout2d::with_seed`], from a stream of the layer's own.
///
/// ```
/// use torchlet::nn::{Dropout2d, Module};
/// use torchlet::Tensor;
/// torchlet::manual_seed(0);
/// let drop = Dropout2d::new(0.5);
/// let y = drop.forward(&Tensor::<f64>::ones(&[2, 8, 3, 3]))?;
/// for plane in y.reshape(&[16, 9])?.to_vec2()? {
///     assert!(plane == vec![0.0; 9] || plane == vec![2.0; 9]);
/// }
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug)]
pub struct Dropout2d {
    masks: Masks,
    training: bool,
}

impl Dropout2d {
    /// Channel dropout with probability `p`, drawing its masks from the default generator.
    ///
    /// # Panics
    /// When `p` is not in `[0, 1]`, with [`Dropout2d::try_new`]'s message, as torch raises in the
    /// constructor.
    pub fn new(p: f64) -> Self {
        Self::try_new(p).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Channel dropout with probability `p` in `[0, 1]`, drawing its masks from the default generator; an
    /// error naming `p` otherwise.
    ///
    /// ```
    /// let err = torchlet::nn::Dropout2d::try_new(-0.1).unwrap_err();
    /// assert_eq!(err.to_string(), "Dropout2d: dropout probability has to be between 0 and 1, but got -0.1");
    /// ```
    pub fn try_new(p: f64) -> Result<Self> {
        Ok(Dropout2d { masks: Masks::new("Dropout2d", p, None)?, training: true })
    }

    /// Channel dropout with probability `p` in `[0, 1]`, drawing its masks from a stream of its own seeded
    /// with `seed`.
    pub fn with_seed(p: f64, seed: u64) -> Result<Self> {
        Ok(Dropout2d { masks: Masks::new("Dropout2d", p, Some(seed))?, training: true })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.masks.p
    }

    /// Whether the layer is in training mode (`dropout.training`).
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Element> Module<T> for Dropout2d {
    /// `x` `[N, C, H, W]` or `[N, C, L]` with whole channels dropped in training; `x` itself in evaluation.
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let op = self.masks.op;
        if !matches!(x.rank(), 3 | 4) {
            let msg = format!("expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape {:?}", x.shape());
            return Err(Error::shape(op, msg));
        }
        if !self.training {
            return Ok(x.clone());
        }
        // One draw per (sample, channel), broadcast over the plane: the mask's gradient is the mask itself.
        let mut shape = vec![1; x.rank()];
        shape[..2].copy_from_slice(&x.shape()[..2]);
        self.masks.apply(x, &shape)
    }

    fn set_training(&mut self, mode: bool) {
        self.training = mode;
    }
}
