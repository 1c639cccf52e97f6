//! Parameter initialisation as `torch.nn.init` does it. torch's in-place forms (`xavier_uniform_(&w, gain)`,
//! `kaiming_normal_`, `uniform_`, ...) overwrite a parameter with draws from the default generator; the forms
//! without the `_` draw from a caller-supplied rng and return a fresh tensor.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use torchlet::nn::init;
//! let mut rng = StdRng::seed_from_u64(0);
//! let w = init::kaiming_uniform::<f64, _>(&[8, 4], 5f64.sqrt(), &mut rng)?; // nn.Linear(4, 8)'s weight
//! let b = init::uniform::<f64, _>(&[8], -0.5, 0.5, &mut rng); // and its bias, bound 1/sqrt(4)
//! assert!(w.to_vec()?.iter().chain(&b.to_vec()?).all(|v| v.abs() <= 0.5));
//! # Ok::<(), torchlet::Error>(())
//! ```

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::Rng;

mod in_place;
pub use in_place::{
    constant_, kaiming_normal_, kaiming_uniform_, normal_, ones_, uniform_, xavier_normal_, xavier_uniform_, zeros_,
};

/// `(fan_in, fan_out)` of a weight shape, as torch's `_calculate_fan_in_and_fan_out`: for `[out, in, k...]`,
/// `fan_in = in * prod(k)` and `fan_out = out * prod(k)`. Fails below 2 dimensions, and for fans that overflow.
///
/// ```
/// use torchlet::nn::init::fan_in_and_fan_out;
/// assert_eq!(fan_in_and_fan_out(&[4, 3])?, (3, 4));
/// assert_eq!(fan_in_and_fan_out(&[8, 2, 3, 3])?, (18, 72));
/// assert!(fan_in_and_fan_out(&[5]).is_err());
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn fan_in_and_fan_out(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::shape(
            "fan_in_and_fan_out",
            format!(
                "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape {shape:?})"
            ),
        ));
    }
    let overflow = || Error::shape("fan_in_and_fan_out", format!("the fans of shape {shape:?} overflow usize"));
    let receptive = shape[2..].iter().try_fold(1usize, |n, &k| n.checked_mul(k)).ok_or_else(overflow)?;
    let fan_in = shape[1].checked_mul(receptive).ok_or_else(overflow)?;
    let fan_out = shape[0].checked_mul(receptive).ok_or_else(overflow)?;
    Ok((fan_in, fan_out))
}

/// The gain torch's `calculate_gain("leaky_relu", a)` gives: `sqrt(2 / (1 + a²))`.
///
/// ```
/// let g = torchlet::nn::init::leaky_relu_gain(5f64.sqrt());
/// assert!((g - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
/// ```
pub fn leaky_relu_gain(negative_slope: f64) -> f64 {
    (2.0 / (1.0 + negative_slope * negative_slope)).sqrt()
}

/// A tensor of `shape` drawn from U(lo, hi) (`torch.nn.init.uniform_`).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// let w = torchlet::nn::init::uniform::<f64, _>(&[3, 2], -0.5, 0.5, &mut StdRng::seed_from_u64(0));
/// assert!(w.to_vec()?.iter().all(|v| (-0.5..0.5).contains(v)));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn uniform<T: Element, R: Rng + ?Sized>(shape: &[usize], lo: f64, hi: f64, rng: &mut R) -> Tensor<T> {
    Tensor::rand_uniform_with(shape, T::from_f64_lossy(lo), T::from_f64_lossy(hi), rng)
}

/// The bound `b` of [`kaiming_uniform`]'s U(-b, b) for a fan-in and a leaky-ReLU slope `a`, computed in
/// `f64` in torch's order (`sqrt(3) * (gain / sqrt(fan_in))`); 0 for a fan-in of 0.
///
/// ```
/// let b = torchlet::nn::init::kaiming_uniform_bound(4, 5f64.sqrt());
/// assert!((b - 0.5).abs() < 1e-15);
/// assert_eq!(torchlet::nn::init::kaiming_uniform_bound(0, 5f64.sqrt()), 0.0);
/// ```
pub fn kaiming_uniform_bound(fan_in: usize, a: f64) -> f64 {
    if fan_in == 0 {
        return 0.0;
    }
    let std = leaky_relu_gain(a) / (fan_in as f64).sqrt();
    3f64.sqrt() * std
}

/// A weight of `shape` (`[out, in, ...]`) drawn as `torch.nn.init.kaiming_uniform_(w, a)` with its defaults
/// (mode `fan_in`, nonlinearity `leaky_relu`): U(-b, b) with `b = sqrt(3) * sqrt(2 / (1 + a²)) / sqrt(fan_in)`.
/// A shape with no elements gives an empty tensor, as torch makes that a no-op. Fails below 2 dimensions.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::init::kaiming_uniform;
/// // a = sqrt(5) is what nn.Linear uses: the bound becomes 1/sqrt(fan_in) = 0.5 here.
/// let w = kaiming_uniform::<f32, _>(&[3, 4], 5f64.sqrt(), &mut StdRng::seed_from_u64(1))?;
/// assert!(w.to_vec()?.iter().all(|v| v.abs() <= 0.5));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn kaiming_uniform<T: Element, R: Rng + ?Sized>(shape: &[usize], a: f64, rng: &mut R) -> Result<Tensor<T>> {
    if shape.len() >= 2 && shape.contains(&0) {
        // torch: "Initializing zero-element tensors is a no-op", before any fan is computed.
        return Ok(Tensor::zeros(shape));
    }
    let (fan_in, _) = fan_in_and_fan_out(shape)?;
    let bound = kaiming_uniform_bound(fan_in, a);
    Ok(uniform(shape, -bound, bound, rng))
}

/// The nonlinearity a gain is for (torch's `nonlinearity=` argument).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// Linear (and convolutions, and sigmoid): gain 1.
    Linear,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// Tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with a negative slope: gain √(2 / (1 + slope²)).
    LeakyRelu(f64),
    /// SELU: gain 3/4.
    Selu,
}

/// torch's `nn.init.calculate_gain`.
///
/// ```
/// use torchlet::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
/// assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu(slope) => leaky_relu_gain(slope),
        Nonlinearity::Selu => 3.0 / 4.0,
    }
}

/// Which fan Kaiming initialisation scales by (torch's `mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FanMode {
    /// Preserves the variance of the forward pass (the default).
    #[default]
    FanIn,
    /// Preserves the variance of the backward pass.
    FanOut,
}

/// A tensor of `shape` drawn from N(mean, std²) (`torch.nn.init.normal_`).
pub fn normal<T: Element, R: Rng + ?Sized>(shape: &[usize], mean: f64, std: f64, rng: &mut R) -> Tensor<T> {
    let (mean, std) = (T::from_f64_lossy(mean), T::from_f64_lossy(std));
    let data = (0..crate::shape::numel(shape)).map(|_| mean + std * T::sample_standard_normal(rng)).collect();
    Tensor::from_vec(data, shape).unwrap_or_else(|_| Tensor::zeros(shape))
}

/// Zeros of `shape` (`torch.nn.init.zeros_`).
pub fn zeros<T: Element>(shape: &[usize]) -> Tensor<T> {
    Tensor::zeros(shape)
}

/// Ones of `shape` (`torch.nn.init.ones_`).
pub fn ones<T: Element>(shape: &[usize]) -> Tensor<T> {
    Tensor::ones(shape)
}

/// `value` everywhere in `shape` (`torch.nn.init.constant_`).
pub fn constant<T: Element>(shape: &[usize], value: f64) -> Tensor<T> {
    Tensor::full(shape, T::from_f64_lossy(value))
}

/// Glorot/Xavier uniform (`torch.nn.init.xavier_uniform_(w, gain)`): U(-a, a) with
/// `a = gain · √3 · √(2 / (fan_in + fan_out))`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::init::xavier_uniform;
/// let w = xavier_uniform::<f64, _>(&[30, 20], 1.0, &mut StdRng::seed_from_u64(0))?;
/// let a = (6.0f64 / 50.0).sqrt();
/// assert!(w.to_vec()?.iter().all(|v| v.abs() <= a));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn xavier_uniform<T: Element, R: Rng + ?Sized>(shape: &[usize], gain: f64, rng: &mut R) -> Result<Tensor<T>> {
    let (fan_in, fan_out) = fan_in_and_fan_out(shape)?;
    let std = gain * (2.0 / (fan_in as f64 + fan_out as f64)).sqrt();
    let a = 3f64.sqrt() * std;
    Ok(uniform(shape, -a, a, rng))
}

/// Glorot/Xavier normal (`torch.nn.init.xavier_normal_(w, gain)`): N(0, std²) with
/// `std = gain · √(2 / (fan_in + fan_out))`.
pub fn xavier_normal<T: Element, R: Rng + ?Sized>(shape: &[usize], gain: f64, rng: &mut R) -> Result<Tensor<T>> {
    let (fan_in, fan_out) = fan_in_and_fan_out(shape)?;
    let std = gain * (2.0 / (fan_in as f64 + fan_out as f64)).sqrt();
    Ok(normal(shape, 0.0, std, rng))
}

/// `gain / √fan` for Kaiming initialisation, or an error for a fan of 0 (torch: "Initializing zero-element
/// tensors is a no-op", and a zero fan divides by zero).
fn kaiming_std(shape: &[usize], mode: FanMode, nonlinearity: Nonlinearity) -> Result<f64> {
    let (fan_in, fan_out) = fan_in_and_fan_out(shape)?;
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    Ok(if fan == 0 { 0.0 } else { calculate_gain(nonlinearity) / (fan as f64).sqrt() })
}

/// He/Kaiming uniform with every option (`torch.nn.init.kaiming_uniform_(w, mode=..., nonlinearity=...)`):
/// U(-b, b) with `b = √3 · gain / √fan`.
pub fn kaiming_uniform_with<T: Element, R: Rng + ?Sized>(
    shape: &[usize],
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut R,
) -> Result<Tensor<T>> {
    let bound = 3f64.sqrt() * kaiming_std(shape, mode, nonlinearity)?;
    Ok(uniform(shape, -bound, bound, rng))
}

/// He/Kaiming normal (`torch.nn.init.kaiming_normal_(w, mode=..., nonlinearity=...)`): N(0, (gain / √fan)²).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use torchlet::nn::init::{kaiming_normal, FanMode, Nonlinearity};
/// let w = kaiming_normal::<f64, _>(&[200, 500], FanMode::FanIn, Nonlinearity::Relu, &mut StdRng::seed_from_u64(0))?;
/// let std = (w.to_vec()?.iter().map(|v| v * v).sum::<f64>() / 100_000.0).sqrt();
/// assert!((std - (2.0f64 / 500.0).sqrt()).abs() < 0.001);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn kaiming_normal<T: Element, R: Rng + ?Sized>(
    shape: &[usize],
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut R,
) -> Result<Tensor<T>> {
    let std = kaiming_std(shape, mode, nonlinearity)?;
    Ok(normal(shape, 0.0, std, rng))
}

/// Overwrites a parameter with `values` (same shape) without recording the write, as torch's in-place
/// initialisers do under `no_grad`: `init::fill_(&layer.weight(), init::xavier_uniform(..)?)`.
pub fn fill_<T: Element>(param: &Tensor<T>, values: Tensor<T>) -> Result<()> {
    if values.shape() != param.shape() {
        return Err(Error::shape(
            "init",
            format!("values of shape {:?} for a tensor of shape {:?}", values.shape(), param.shape()),
        ));
    }
    crate::autograd::no_grad(|| param.copy_(&values.to(param.device())?).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn linear_bound_is_one_over_sqrt_fan_in() {
        for fan_in in [1usize, 2, 3, 10, 1000] {
            let b = kaiming_uniform_bound(fan_in, 5f64.sqrt());
            assert!((b - 1.0 / (fan_in as f64).sqrt()).abs() < 1e-15, "fan_in {fan_in}: {b}");
        }
    }

    fn moments(t: &Tensor<f64>) -> (f64, f64) {
        let v = t.to_vec().unwrap();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn draws_have_torchs_spread() {
        let mut rng = StdRng::seed_from_u64(5);
        let shape = [400, 300];
        // Uniform U(-a, a) has std a/√3; the expected spreads follow torch.nn.init's formulas.
        let (m, s) = moments(&xavier_uniform(&shape, 2.0, &mut rng).unwrap());
        assert!(m.abs() < 0.003 && (s - 2.0 * (2.0f64 / 700.0).sqrt()).abs() < 0.002, "{m} {s}");
        let (m, s) = moments(&xavier_normal(&shape, 1.0, &mut rng).unwrap());
        assert!(m.abs() < 0.003 && (s - (2.0f64 / 700.0).sqrt()).abs() < 0.001, "{m} {s}");
        let (_, s) = moments(&kaiming_uniform_with(&shape, FanMode::FanOut, Nonlinearity::Tanh, &mut rng).unwrap());
        assert!((s - 5.0 / 3.0 / 400f64.sqrt()).abs() < 0.002, "{s}");
        let (m, s) = moments(&normal(&shape, 3.0, 0.5, &mut rng));
        assert!((m - 3.0).abs() < 0.003 && (s - 0.5).abs() < 0.003, "{m} {s}");
        assert_eq!(calculate_gain(Nonlinearity::LeakyRelu(0.0)), 2f64.sqrt());
        assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
        assert_eq!(constant::<f64>(&[2], 1.5).to_vec().unwrap(), vec![1.5, 1.5]);
    }

    #[test]
    fn fill_overwrites_a_parameter_untracked() {
        let w = Tensor::<f64>::zeros(&[2, 3]).requires_grad_(true).unwrap();
        fill_(&w, ones(&[2, 3])).unwrap();
        assert_eq!(w.to_vec().unwrap(), vec![1.0; 6]);
        assert!(w.is_leaf() && w.requires_grad());
        assert!(fill_(&w, ones(&[3, 2])).is_err());
    }

    #[test]
    fn zero_element_shapes_draw_nothing() {
        let mut rng = StdRng::seed_from_u64(3);
        let w = kaiming_uniform::<f64, _>(&[4, 0], 5f64.sqrt(), &mut rng).unwrap();
        assert_eq!(w.shape(), &[4, 0]);
        let err = kaiming_uniform::<f64, _>(&[4], 5f64.sqrt(), &mut rng).unwrap_err().to_string();
        assert!(err.starts_with("fan_in_and_fan_out:") && err.contains("[4]"), "{err}");
    }
}
