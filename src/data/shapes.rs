//! `make_moons` and `make_circles`: scikit-learn's two-class toy problems in the plane.

use super::labeled::{at_least_one, check_noise, labels_to_tensor, matrix, shuffle_rows, Classification};
use crate::element::Element;
use crate::error::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// The parameters of [`make_moons`], named and defaulted as scikit-learn's (`sklearn.datasets.make_moons`);
/// `seed` stands for `random_state` and defaults to 0.
///
/// ```
/// let d = torchlet::data::MakeMoons::default();
/// assert_eq!((d.n_samples, d.shuffle, d.noise), (100, true, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MakeMoons {
    /// The number of points; at least 1. The outer moon gets `n_samples / 2` (rounded down), the inner one
    /// the rest. Default 100.
    pub n_samples: usize,
    /// Permute the points. Default true.
    pub shuffle: bool,
    /// The standard deviation of the Gaussian noise added to every coordinate; `None` (the default) adds
    /// none. Finite and >= 0.
    pub noise: Option<f64>,
    /// The seed of the rng that shuffles and draws the noise. Default 0.
    pub seed: u64,
}

impl Default for MakeMoons {
    /// scikit-learn's defaults: 100 points, shuffled, no noise; seed 0.
    fn default() -> Self {
        MakeMoons { n_samples: 100, shuffle: true, noise: None, seed: 0 }
    }
}

/// The parameters of [`make_circles`], named and defaulted as scikit-learn's
/// (`sklearn.datasets.make_circles`); `seed` stands for `random_state` and defaults to 0.
///
/// ```
/// let d = torchlet::data::MakeCircles::default();
/// assert_eq!((d.n_samples, d.factor, d.noise), (100, 0.8, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MakeCircles {
    /// The number of points; 0 gives empty data, as in scikit-learn. The outer circle gets `n_samples / 2`
    /// (rounded down), the inner one the rest. Default 100.
    pub n_samples: usize,
    /// Permute the points. Default true.
    pub shuffle: bool,
    /// The standard deviation of the Gaussian noise added to every coordinate; `None` (the default) adds
    /// none. Finite and >= 0.
    pub noise: Option<f64>,
    /// The radius of the inner circle (the outer one's is 1), in [0, 1). Default 0.8.
    pub factor: f64,
    /// The seed of the rng that shuffles and draws the noise. Default 0.
    pub seed: u64,
}

impl Default for MakeCircles {
    /// scikit-learn's defaults: 100 points, shuffled, no noise, factor 0.8; seed 0.
    fn default() -> Self {
        MakeCircles { n_samples: 100, shuffle: true, noise: None, factor: 0.8, seed: 0 }
    }
}

/// Two interleaving half circles, as scikit-learn's `make_moons`.
///
/// With `n_out = n_samples / 2` and `n_in = n_samples - n_out`: the outer moon is `(cos t, sin t)` for `n_out`
/// values of `t` evenly spaced over [0, π], end points included, with label 0; the inner moon is
/// `(1 - cos t, 0.5 - sin t)` for `n_in` such values, with label 1. With `shuffle` the points are permuted,
/// and then, when `noise` is given, N(0, noise) is added to every coordinate; both draw from
/// `StdRng::seed_from_u64(seed)`.
///
/// Fails for 0 samples or a negative or non-finite noise.
///
/// ```
/// use torchlet::data::{make_moons, MakeMoons};
/// let data = make_moons::<f64>(&MakeMoons { n_samples: 5, shuffle: false, ..Default::default() })?;
/// assert_eq!(data.y.to_labels()?, [0, 0, 1, 1, 1]);
/// let x = data.x.to_vec2()?;
/// assert_eq!((x[0][0], x[0][1], x[1][0]), (1.0, 0.0, -1.0)); // t = 0 and t = π on the outer moon
/// assert_eq!(x[2], [0.0, 0.5]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn make_moons<T: Element>(config: &MakeMoons) -> Result<Classification<T>> {
    const OP: &str = "make_moons";
    at_least_one(OP, &[("n_samples", config.n_samples)])?;
    check_noise(OP, config.noise)?;
    let n_out = config.n_samples / 2;
    let outer = linspace(PI, n_out, true).map(|t| [t.cos(), t.sin()]);
    let inner = linspace(PI, config.n_samples - n_out, true).map(|t| [1.0 - t.cos(), 0.5 - t.sin()]);
    two_classes(outer, inner, config.shuffle, config.noise, config.seed)
}

/// A circle inside another, as scikit-learn's `make_circles`.
///
/// With `n_out = n_samples / 2` and `n_in = n_samples - n_out`: the outer circle is `(cos t, sin t)` for `n_out`
/// values of `t` evenly spaced over [0, 2π), with label 0; the inner circle is `factor · (cos t, sin t)` for
/// `n_in` such values, with label 1. With `shuffle` the points are permuted, and then, when `noise` is given,
/// N(0, noise) is added to every coordinate; both draw from `StdRng::seed_from_u64(seed)`.
///
/// Fails for a `factor` outside [0, 1) or a negative or non-finite noise.
///
/// ```
/// use torchlet::data::{make_circles, MakeCircles};
/// let data = make_circles::<f64>(&MakeCircles { n_samples: 8, factor: 0.5, shuffle: false, ..Default::default() })?;
/// assert_eq!(data.y.to_labels()?, [0, 0, 0, 0, 1, 1, 1, 1]);
/// assert_eq!(data.x.to_vec2()?[4], [0.5, 0.0]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn make_circles<T: Element>(config: &MakeCircles) -> Result<Classification<T>> {
    const OP: &str = "make_circles";
    let factor = config.factor;
    if !(0.0..1.0).contains(&factor) {
        return Err(Error::invalid(OP, format!("factor must be in [0, 1), got {factor}")));
    }
    check_noise(OP, config.noise)?;
    let n_out = config.n_samples / 2;
    let outer = linspace(2.0 * PI, n_out, false).map(|t| [t.cos(), t.sin()]);
    let inner = linspace(2.0 * PI, config.n_samples - n_out, false).map(|t| [factor * t.cos(), factor * t.sin()]);
    two_classes(outer, inner, config.shuffle, config.noise, config.seed)
}

/// `count` values evenly spaced from 0 to `stop`, `stop` included when `endpoint` (`np.linspace`).
fn linspace(stop: f64, count: usize, endpoint: bool) -> impl Iterator<Item = f64> {
    let intervals = if endpoint { count.saturating_sub(1) } else { count };
    let step = if intervals == 0 { 0.0 } else { stop / intervals as f64 };
    (0..count).map(move |i| if endpoint && i + 1 == count && i > 0 { stop } else { i as f64 * step })
}

/// The points of class 0, then of class 1, shuffled if asked, then with the noise added.
fn two_classes<T: Element>(
    class_0: impl Iterator<Item = [f64; 2]>,
    class_1: impl Iterator<Item = [f64; 2]>,
    shuffle: bool,
    noise: Option<f64>,
    seed: u64,
) -> Result<Classification<T>> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (label, point) in class_0.map(|p| (0, p)).chain(class_1.map(|p| (1, p))) {
        x.extend(point);
        y.push(label);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    if shuffle {
        shuffle_rows(&mut x, &mut y, 2, &mut rng);
    }
    if let Some(noise) = noise {
        for v in &mut x {
            *v += noise * rng.sample::<f64, _>(StandardNormal);
        }
    }
    Ok(Classification { x: matrix(x, 2)?, y: labels_to_tensor(&y) })
}
