//! torch's in-place initialisers, with torch's call shapes: `init::xavier_uniform_(&w, 1.0)?` overwrites
//! `w` (a parameter, untracked as under `no_grad`) with values drawn from the default generator
//! ([`crate::manual_seed`]). The functions without the trailing `_` draw from a given rng and return a
//! fresh tensor.

use super::{fill_, kaiming_normal, kaiming_uniform_with, normal, uniform, xavier_normal, xavier_uniform};
use super::{FanMode, Nonlinearity};
use crate::element::Element;
use crate::error::Result;
use crate::random::with_default_generator;
use crate::tensor::Tensor;

/// Overwrites `param` with U(a, b) draws (`torch.nn.init.uniform_(w, a, b)`).
///
/// ```
/// use torchlet::nn::init;
/// let w = torchlet::Tensor::<f32>::zeros(&[3, 2]).requires_grad_(true)?;
/// torchlet::manual_seed(0);
/// init::uniform_(&w, -0.1, 0.1)?;
/// assert!(w.to_vec()?.iter().all(|v| (-0.1..0.1).contains(v) && *v != 0.0));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn uniform_<T: Element>(param: &Tensor<T>, a: f64, b: f64) -> Result<()> {
    fill_(param, with_default_generator(|rng| uniform(param.shape(), a, b, rng)))
}

/// Overwrites `param` with N(mean, std²) draws (`torch.nn.init.normal_(w, mean, std)`).
pub fn normal_<T: Element>(param: &Tensor<T>, mean: f64, std: f64) -> Result<()> {
    fill_(param, with_default_generator(|rng| normal(param.shape(), mean, std, rng)))
}

/// Overwrites `param` with Xavier/Glorot uniform draws (`torch.nn.init.xavier_uniform_(w, gain)`).
pub fn xavier_uniform_<T: Element>(param: &Tensor<T>, gain: f64) -> Result<()> {
    fill_(param, with_default_generator(|rng| xavier_uniform(param.shape(), gain, rng))?)
}

/// Overwrites `param` with Xavier/Glorot normal draws (`torch.nn.init.xavier_normal_(w, gain)`).
pub fn xavier_normal_<T: Element>(param: &Tensor<T>, gain: f64) -> Result<()> {
    fill_(param, with_default_generator(|rng| xavier_normal(param.shape(), gain, rng))?)
}

/// Overwrites `param` with He/Kaiming uniform draws (`torch.nn.init.kaiming_uniform_(w, mode=...,
/// nonlinearity=...)`; torch's default `a = 0` with leaky ReLU is `Nonlinearity::LeakyRelu(0.0)`).
pub fn kaiming_uniform_<T: Element>(param: &Tensor<T>, mode: FanMode, nonlinearity: Nonlinearity) -> Result<()> {
    fill_(param, with_default_generator(|rng| kaiming_uniform_with(param.shape(), mode, nonlinearity, rng))?)
}

/// Overwrites `param` with He/Kaiming normal draws (`torch.nn.init.kaiming_normal_(w, mode=...,
/// nonlinearity=...)`).
///
/// ```
/// use torchlet::nn::init::{self, FanMode, Nonlinearity};
/// use torchlet::nn::{Linear, Module};
/// torchlet::manual_seed(0);
/// let layer = Linear::<f64>::new(500, 200);
/// init::kaiming_normal_(layer.weight(), FanMode::FanIn, Nonlinearity::Relu)?;
/// let w = layer.weight().to_vec()?;
/// let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
/// assert!((std - (2.0f64 / 500.0).sqrt()).abs() < 0.001);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn kaiming_normal_<T: Element>(param: &Tensor<T>, mode: FanMode, nonlinearity: Nonlinearity) -> Result<()> {
    fill_(param, with_default_generator(|rng| kaiming_normal(param.shape(), mode, nonlinearity, rng))?)
}

/// Overwrites `param` with `value` (`torch.nn.init.constant_(w, value)`).
pub fn constant_<T: Element>(param: &Tensor<T>, value: f64) -> Result<()> {
    fill_(param, super::constant(param.shape(), value))
}

/// Overwrites `param` with zeros (`torch.nn.init.zeros_(w)`).
pub fn zeros_<T: Element>(param: &Tensor<T>) -> Result<()> {
    constant_(param, 0.0)
}

/// Overwrites `param` with ones (`torch.nn.init.ones_(w)`).
pub fn ones_<T: Element>(param: &Tensor<T>) -> Result<()> {
    constant_(param, 1.0)
}
