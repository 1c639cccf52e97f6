//! `make_blobs`: scikit-learn's isotropic Gaussian clusters.

use super::labeled::{at_least_one, labels_to_tensor, matrix, shuffle_rows};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

const OP: &str = "make_blobs";

/// The centers of [`make_blobs`]: how many to draw, or where they are (scikit-learn's int or array-like
/// `centers`). `3usize` and `vec![vec![0.0, 0.0], vec![5.0, 5.0]]` convert into it.
///
/// ```
/// use torchlet::data::Centers;
/// assert_eq!(Centers::from(4usize), Centers::Count(4));
/// assert_eq!(Centers::from(vec![vec![1.0, 2.0]]), Centers::Points(vec![vec![1.0, 2.0]]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Centers {
    /// This many centers, drawn uniformly from `center_box` in each of the `n_features` dimensions.
    Count(usize),
    /// These centers, one row each; their length sets the number of features.
    Points(Vec<Vec<f64>>),
}

impl From<usize> for Centers {
    fn from(count: usize) -> Self {
        Centers::Count(count)
    }
}

impl From<Vec<Vec<f64>>> for Centers {
    fn from(points: Vec<Vec<f64>>) -> Self {
        Centers::Points(points)
    }
}

/// The standard deviation of each cluster of [`make_blobs`]: one for all, or one per center (scikit-learn's
/// float or array-like `cluster_std`). `1.5` and `vec![1.0, 2.0]` convert into it.
///
/// ```
/// use torchlet::data::ClusterStd;
/// assert_eq!(ClusterStd::from(1.5), ClusterStd::All(1.5));
/// assert_eq!(ClusterStd::from(vec![1.0, 2.0]), ClusterStd::PerCenter(vec![1.0, 2.0]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterStd {
    /// The same standard deviation for every cluster.
    All(f64),
    /// One standard deviation per center, in the order of the centers.
    PerCenter(Vec<f64>),
}

impl From<f64> for ClusterStd {
    fn from(std: f64) -> Self {
        ClusterStd::All(std)
    }
}

impl From<Vec<f64>> for ClusterStd {
    fn from(stds: Vec<f64>) -> Self {
        ClusterStd::PerCenter(stds)
    }
}

/// The parameters of [`make_blobs`], named and defaulted as scikit-learn's (`sklearn.datasets.make_blobs`);
/// `seed` stands for `random_state` and defaults to 0.
///
/// ```
/// use torchlet::data::{Centers, ClusterStd, MakeBlobs};
/// let d = MakeBlobs::default();
/// assert_eq!((d.n_samples, d.n_features, d.center_box), (100, 2, (-10.0, 10.0)));
/// assert_eq!((d.centers, d.cluster_std), (Centers::Count(3), ClusterStd::All(1.0)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MakeBlobs {
    /// The number of points in all; at least 1. Default 100.
    pub n_samples: usize,
    /// The number of features; at least 1. Ignored when `centers` gives the points. Default 2.
    pub n_features: usize,
    /// How many centers to draw, or the centers themselves. Default 3 drawn.
    pub centers: Centers,
    /// The standard deviation of the clusters; finite and >= 0. Default 1.
    pub cluster_std: ClusterStd,
    /// The bounds `(low, high)` of the uniform draws of the centers; finite, `low <= high`. Default (-10, 10).
    pub center_box: (f64, f64),
    /// Permute the points. Default true.
    pub shuffle: bool,
    /// The seed of the rng that draws everything. Default 0.
    pub seed: u64,
}

impl Default for MakeBlobs {
    /// scikit-learn's defaults: 100 points in 2 features around 3 centers drawn from U(-10, 10), standard
    /// deviation 1, shuffled; seed 0.
    fn default() -> Self {
        MakeBlobs {
            n_samples: 100,
            n_features: 2,
            centers: Centers::Count(3),
            cluster_std: ClusterStd::All(1.0),
            center_box: (-10.0, 10.0),
            shuffle: true,
            seed: 0,
        }
    }
}

/// What [`make_blobs`] returns: the points, their cluster, and the centers (scikit-learn's
/// `return_centers=True`).
#[derive(Debug, Clone)]
pub struct Blobs<T: Element> {
    /// The points, `[n_samples, n_features]`.
    pub x: Tensor<T>,
    /// The index of the center each point was drawn around, a label tensor `[n_samples]`.
    pub y: Tensor<T>,
    /// The centers, `[n_centers, n_features]`.
    pub centers: Tensor<T>,
}

/// Gaussian blobs, as scikit-learn's `make_blobs(..., return_centers=True)`.
///
/// With `k` centers, center `i` gets `n_samples / k` points, plus one for the first `n_samples % k` centers.
/// Drawn centers are `U(center_box)` in each feature. The points of center `i` follow, in order, as
/// `center_i + cluster_std_i · N(0, 1)` with label `i`; then, with `shuffle`, the points are permuted. All
/// draws happen in that order, in `f64`, from `StdRng::seed_from_u64(seed)`.
///
/// Fails for 0 samples, features or centers, rows of given centers that are empty, of different lengths or
/// not finite, standard deviations that are negative or not finite, a `PerCenter` list whose length is not the
/// number of centers, or a `center_box` that is not finite or has `low > high`.
///
/// ```
/// use torchlet::data::{make_blobs, MakeBlobs};
/// let config = MakeBlobs { n_samples: 10, centers: vec![vec![0.0, 0.0], vec![100.0, 100.0]].into(),
///     shuffle: false, ..Default::default() };
/// let blobs = make_blobs::<f64>(&config)?;
/// assert_eq!(blobs.y.to_labels()?, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
/// assert!(blobs.x.to_vec2()?[5].iter().all(|&v| (v - 100.0).abs() < 10.0));
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn make_blobs<T: Element>(config: &MakeBlobs) -> Result<Blobs<T>> {
    at_least_one(OP, &[("n_samples", config.n_samples)])?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let (centers, f) = centers(config, &mut rng)?;
    let k = centers.len() / f;
    let stds = match &config.cluster_std {
        ClusterStd::All(std) => vec![*std; k],
        ClusterStd::PerCenter(stds) if stds.len() == k => stds.clone(),
        ClusterStd::PerCenter(stds) => {
            return Err(Error::invalid(
                OP,
                format!("cluster_std has {} values for {k} centers; give one per center", stds.len()),
            ));
        }
    };
    if let Some(std) = stds.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
        return Err(Error::invalid(OP, format!("cluster_std must be finite and >= 0, got {std}")));
    }

    let n = config.n_samples;
    let (mut x, mut y) = (Vec::with_capacity(n * f), Vec::with_capacity(n));
    for (i, (center, std)) in centers.chunks_exact(f).zip(&stds).enumerate() {
        let count = n / k + usize::from(i < n % k);
        for _ in 0..count {
            x.extend(center.iter().map(|c| c + std * rng.sample::<f64, _>(StandardNormal)));
            y.push(i);
        }
    }
    if config.shuffle {
        shuffle_rows(&mut x, &mut y, f, &mut rng);
    }
    Ok(Blobs { x: matrix(x, f)?, y: labels_to_tensor(&y), centers: matrix(centers, f)? })
}

/// The centers, row-major, and the number of features; drawn ones come first from `rng`.
fn centers(config: &MakeBlobs, rng: &mut StdRng) -> Result<(Vec<f64>, usize)> {
    match &config.centers {
        Centers::Count(k) => {
            at_least_one(OP, &[("n_features", config.n_features), ("centers", *k)])?;
            let (low, high) = config.center_box;
            if !(low.is_finite() && high.is_finite() && low <= high) {
                return Err(Error::invalid(
                    OP,
                    format!("center_box must be finite with low <= high, got ({low}, {high})"),
                ));
            }
            let f = config.n_features;
            Ok(((0..k * f).map(|_| low + (high - low) * rng.random::<f64>()).collect(), f))
        }
        Centers::Points(points) => {
            let Some(f) = points.first().map(Vec::len) else {
                return Err(Error::invalid(OP, "centers must hold at least one point, got none"));
            };
            if f == 0 {
                return Err(Error::invalid(OP, "center 0 has no coordinates; centers need at least 1"));
            }
            if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p.len() != f) {
                return Err(Error::invalid(
                    OP,
                    format!("center {i} has {} coordinates, but center 0 has {f}; all need the same number", p.len()),
                ));
            }
            if let Some(p) = points.iter().find(|p| p.iter().any(|v| !v.is_finite())) {
                return Err(Error::invalid(OP, format!("centers must be finite, got {p:?}")));
            }
            Ok((points.concat(), f))
        }
    }
}
