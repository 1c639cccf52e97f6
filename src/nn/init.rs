//! Parameter initialisation as `torch.nn.init` does it, drawing from a caller-supplied rng so that runs are
//! reproducible.
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

/// `(fan_in, fan_out)` of a weight shape, as torch's `_calculate_fan_in_and_fan_out`: for `[out, in, k...]`,
/// `fan_in = in * prod(k)` and `fan_out = out * prod(k)`. Fails below 2 dimensions.
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
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
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
    Tensor::rand_uniform(shape, T::from_f64_lossy(lo), T::from_f64_lossy(hi), rng)
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
    let (fan_in, _) = fan_in_and_fan_out(shape)?;
    if shape.contains(&0) {
        return Ok(Tensor::zeros(shape));
    }
    let bound = kaiming_uniform_bound(fan_in, a);
    Ok(uniform(shape, -bound, bound, rng))
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

    #[test]
    fn zero_element_shapes_draw_nothing() {
        let mut rng = StdRng::seed_from_u64(3);
        let w = kaiming_uniform::<f64, _>(&[4, 0], 5f64.sqrt(), &mut rng).unwrap();
        assert_eq!(w.shape(), &[4, 0]);
        let err = kaiming_uniform::<f64, _>(&[4], 5f64.sqrt(), &mut rng).unwrap_err().to_string();
        assert!(err.starts_with("fan_in_and_fan_out:") && err.contains("[4]"), "{err}");
    }
}
