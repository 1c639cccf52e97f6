//! `make_regression`: scikit-learn's random linear regression problem, with a seeded rng.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// The parameters of [`make_regression`], named and defaulted as scikit-learn's
/// (`sklearn.datasets.make_regression`); `seed` stands for `random_state` and defaults to 0.
///
/// ```
/// use torchlet::data::MakeRegression;
/// let config = MakeRegression { n_samples: 10_100, n_features: 4, n_informative: 3, noise: 1.0, ..Default::default() };
/// assert_eq!((config.n_targets, config.bias, config.shuffle), (1, 0.0, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MakeRegression {
    /// The number of samples (rows of X); at least 1. Default 100.
    pub n_samples: usize,
    /// The number of features (columns of X); at least 1. Default 100.
    pub n_features: usize,
    /// How many features carry signal; more than `n_features` counts as `n_features`. Default 10.
    pub n_informative: usize,
    /// The number of regression targets (columns of y); at least 1. Default 1.
    pub n_targets: usize,
    /// Added to every target. Default 0.
    pub bias: f64,
    /// The standard deviation of the Gaussian noise added to the targets; >= 0. Default 0.
    pub noise: f64,
    /// Permute the samples and the features. Default true.
    pub shuffle: bool,
    /// The seed of the rng that draws everything. Default 0.
    pub seed: u64,
}

impl Default for MakeRegression {
    /// scikit-learn's defaults: 100 samples, 100 features, 10 informative, 1 target, no bias, no noise,
    /// shuffled; seed 0.
    ///
    /// ```
    /// let d = torchlet::data::MakeRegression::default();
    /// assert_eq!((d.n_samples, d.n_features, d.n_informative, d.n_targets), (100, 100, 10, 1));
    /// ```
    fn default() -> Self {
        MakeRegression {
            n_samples: 100,
            n_features: 100,
            n_informative: 10,
            n_targets: 1,
            bias: 0.0,
            noise: 0.0,
            shuffle: true,
            seed: 0,
        }
    }
}

/// What [`make_regression`] returns: the inputs, the targets and the true coefficients.
///
/// ```
/// use torchlet::data::{make_regression, MakeRegression};
/// let r = make_regression::<f64>(&MakeRegression { n_samples: 5, n_features: 3, ..Default::default() })?;
/// assert_eq!((r.x.shape(), r.y.shape(), r.coef.shape()), (&[5, 3][..], &[5][..], &[3][..]));
/// # Ok::<(), torchlet::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Regression<T: Element> {
    /// The inputs, `[n_samples, n_features]`, drawn from N(0, 1).
    pub x: Tensor<T>,
    /// The targets: `[n_samples]` for one target, else `[n_samples, n_targets]`.
    pub y: Tensor<T>,
    /// The coefficients of the underlying linear model: `[n_features]` for one target, else
    /// `[n_features, n_targets]`; the rows of uninformative features are 0.
    pub coef: Tensor<T>,
}

/// A random linear regression problem, as scikit-learn's `make_regression(..., coef=True)`.
///
/// `X ~ N(0, 1)` of shape `[n, f]`; the first `n_informative` rows of the `[f, t]` ground truth are
/// `100 · U(0, 1)`, the rest 0; `y = X · ground_truth + bias`, plus `N(0, noise)` when `noise > 0`; with
/// `shuffle` the samples are permuted, then the features (columns of X together with rows of the ground
/// truth). The draws happen in that order, in `f64`, from `StdRng::seed_from_u64(seed)`, so the numbers are
/// not NumPy's but f32 and f64 get the same data up to rounding. Unlike `np.squeeze`, only the target
/// dimension is squeezed, so a single sample or feature keeps its dimension.
///
/// Fails for 0 samples, features or targets, a negative or non-finite noise, or a non-finite bias.
///
/// ```
/// use torchlet::data::{make_regression, MakeRegression};
/// let config = MakeRegression { n_samples: 50, n_features: 4, n_informative: 2, bias: 3.0, seed: 7, ..Default::default() };
/// let r = make_regression::<f64>(&config)?;
/// let max_error = (&r.x.matmul(&r.coef)? + 3.0 - &r.y).abs()?.to_vec()?.into_iter().fold(0.0, f64::max);
/// assert!(max_error < 1e-10);
/// assert_eq!(r.coef.to_vec()?.iter().filter(|&&c| c != 0.0).count(), 2);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn make_regression<T: Element>(config: &MakeRegression) -> Result<Regression<T>> {
    let MakeRegression { n_samples: n, n_features: f, n_targets: t, bias, noise, .. } = *config;
    for (name, value) in [("n_samples", n), ("n_features", f), ("n_targets", t)] {
        if value == 0 {
            return Err(Error::invalid("make_regression", format!("{name} must be at least 1, got 0")));
        }
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::invalid("make_regression", format!("noise must be finite and >= 0, got {noise}")));
    }
    if !bias.is_finite() {
        return Err(Error::invalid("make_regression", format!("bias must be finite, got {bias}")));
    }
    for (what, a, b) in
        [("n_samples * n_features", n, f), ("n_features * n_targets", f, t), ("n_samples * n_targets", n, t)]
    {
        if a.checked_mul(b).is_none_or(|cells| cells > crate::shape::MAX_ELEMENTS) {
            return Err(Error::invalid(
                "make_regression",
                format!("{what} = {a} * {b} is more elements than memory can hold"),
            ));
        }
    }
    let informative = config.n_informative.min(f);
    let mut rng = StdRng::seed_from_u64(config.seed);

    let x: Vec<f64> = (0..n * f).map(|_| rng.sample(StandardNormal)).collect();
    let mut truth = vec![0.0; f * t];
    for v in &mut truth[..informative * t] {
        *v = 100.0 * rng.random::<f64>();
    }
    let mut y = vec![0.0; n * t];
    for (x_row, y_row) in x.chunks_exact(f).zip(y.chunks_exact_mut(t)) {
        // Accumulate X·truth first and add the bias last, as `np.dot(X, truth) + bias` rounds.
        for (k, y_k) in y_row.iter_mut().enumerate() {
            let dot: f64 = x_row.iter().zip(truth[k..].iter().step_by(t)).map(|(a, b)| a * b).sum();
            *y_k = dot + bias;
        }
    }
    if noise > 0.0 {
        for v in &mut y {
            *v += noise * rng.sample::<f64, _>(StandardNormal);
        }
    }

    let (x, truth, y) = if config.shuffle {
        let mut rows: Vec<usize> = (0..n).collect();
        rows.shuffle(&mut rng);
        let mut features: Vec<usize> = (0..f).collect();
        features.shuffle(&mut rng);
        let mut shuffled_x = Vec::with_capacity(n * f);
        for &r in &rows {
            shuffled_x.extend(features.iter().map(|&c| x[r * f + c]));
        }
        let y = rows.iter().flat_map(|&r| y[r * t..(r + 1) * t].iter().copied()).collect();
        let truth = features.iter().flat_map(|&c| truth[c * t..(c + 1) * t].iter().copied()).collect();
        (shuffled_x, truth, y)
    } else {
        (x, truth, y)
    };

    let cast = |v: Vec<f64>, shape: &[usize]| Tensor::from_vec(v.into_iter().map(T::from_f64_lossy).collect(), shape);
    let (y_shape, coef_shape) = if t == 1 { (vec![n], vec![f]) } else { (vec![n, t], vec![f, t]) };
    Ok(Regression { x: cast(x, &[n, f])?, y: cast(y, &y_shape)?, coef: cast(truth, &coef_shape)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_and_f64_draw_the_same_data() {
        let config = MakeRegression { n_samples: 20, n_features: 3, n_targets: 2, noise: 0.5, ..Default::default() };
        let (a, b) = (make_regression::<f32>(&config).unwrap(), make_regression::<f64>(&config).unwrap());
        let close = |x: &Tensor<f32>, y: &Tensor<f64>| {
            x.to_vec()
                .unwrap()
                .iter()
                .zip(y.to_vec().unwrap())
                .all(|(&p, q)| (p as f64 - q).abs() <= 1e-5 * q.abs().max(1.0))
        };
        assert!(close(&a.x, &b.x) && close(&a.y, &b.y) && close(&a.coef, &b.coef));
    }

    #[test]
    fn informative_rows_are_in_the_hundreds_before_shuffling() {
        let config =
            MakeRegression { n_features: 6, n_informative: 4, n_targets: 3, shuffle: false, ..Default::default() };
        let coef = make_regression::<f64>(&config).unwrap().coef.to_vec2().unwrap();
        assert!(coef[..4].iter().flatten().all(|&c| c > 0.0 && c < 100.0));
        assert!(coef[4..].iter().flatten().all(|&c| c == 0.0));
    }
}
