//! The parameters of `make_classification`, their checks, and the cluster sizes they give.

use super::OP;
use crate::data::labeled::at_least_one;
use crate::error::{Error, Result};

/// The parameters of [`make_classification`](super::make_classification), named and defaulted as scikit-learn's
/// (`sklearn.datasets.make_classification`); `seed` stands for `random_state` and defaults to 0.
///
/// ```
/// use torchlet::data::MakeClassification;
/// // The T6 tutorial's data.
/// let config = MakeClassification { n_samples: 10_100, n_features: 6, n_informative: 5, n_redundant: 0, ..Default::default() };
/// assert_eq!((config.n_classes, config.n_clusters_per_class, config.flip_y), (2, 2, 0.01));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MakeClassification {
    /// The number of samples; at least 1. Default 100.
    pub n_samples: usize,
    /// The number of features; at least 1. Default 20.
    pub n_features: usize,
    /// The features that place the clusters; at least 1, and `2^n_informative` must be at least
    /// `n_classes · n_clusters_per_class`. Default 2.
    pub n_informative: usize,
    /// The features that are random linear combinations of the informative ones. Default 2.
    pub n_redundant: usize,
    /// The features that copy an informative or redundant one. Default 0.
    pub n_repeated: usize,
    /// The number of classes; at least 1. Default 2.
    pub n_classes: usize,
    /// The number of Gaussian clusters of each class; at least 1. Default 2.
    pub n_clusters_per_class: usize,
    /// The share of the samples in each class, `n_classes` values or `n_classes - 1` (the last is then
    /// `1 -` their sum); each >= 0. `None` (the default) gives every class `1 / n_classes`. Shares that do
    /// not add up to 1 are not rescaled: the samples left over go one by one to the clusters in turn.
    pub weights: Option<Vec<f64>>,
    /// The fraction of labels replaced by a random class (which may be the same one), in [0, 1]. Default 0.01.
    pub flip_y: f64,
    /// Half the side of the hypercube whose vertices the clusters sit on; > 0. Default 1.
    pub class_sep: f64,
    /// Put the clusters on the vertices of a hypercube; `false` scales each vertex, and each informative
    /// dimension, by a U(0, 1) draw. Default true.
    pub hypercube: bool,
    /// Added to every feature; `None` draws one shift per feature from `U(-class_sep, class_sep)`. Default
    /// `Some(0.0)`.
    pub shift: Option<f64>,
    /// Multiplies every feature after the shift; > 0. `None` draws one factor per feature from `U(1, 101)`.
    /// Default `Some(1.0)`.
    pub scale: Option<f64>,
    /// Permute the samples, then the features. Default true.
    pub shuffle: bool,
    /// The seed of the rng that draws everything. Default 0.
    pub seed: u64,
}

impl Default for MakeClassification {
    /// scikit-learn's defaults: 100 samples, 20 features of which 2 informative and 2 redundant, 2 classes of 2
    /// clusters, balanced, 1% of the labels flipped, `class_sep` 1, hypercube, no shift or scale, shuffled;
    /// seed 0.
    ///
    /// ```
    /// let d = torchlet::data::MakeClassification::default();
    /// assert_eq!((d.n_samples, d.n_features, d.n_informative, d.n_redundant), (100, 20, 2, 2));
    /// ```
    fn default() -> Self {
        MakeClassification {
            n_samples: 100,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_classes: 2,
            n_clusters_per_class: 2,
            weights: None,
            flip_y: 0.01,
            class_sep: 1.0,
            hypercube: true,
            shift: Some(0.0),
            scale: Some(1.0),
            shuffle: true,
            seed: 0,
        }
    }
}

/// Checks `config` and returns the size of each cluster.
pub(super) fn cluster_sizes(config: &MakeClassification) -> Result<Vec<usize>> {
    let c = config;
    at_least_one(
        OP,
        &[
            ("n_samples", c.n_samples),
            ("n_features", c.n_features),
            ("n_informative", c.n_informative),
            ("n_classes", c.n_classes),
            ("n_clusters_per_class", c.n_clusters_per_class),
        ],
    )?;
    let used = c.n_informative as u128 + c.n_redundant as u128 + c.n_repeated as u128;
    if used > c.n_features as u128 {
        return Err(Error::invalid(
            OP,
            format!(
                "the numbers of informative ({}), redundant ({}) and repeated ({}) features must sum to at most \
                 n_features ({}), got {used}",
                c.n_informative, c.n_redundant, c.n_repeated, c.n_features
            ),
        ));
    }
    let n_clusters = c.n_classes as u128 * c.n_clusters_per_class as u128;
    if c.n_informative < 128 && n_clusters > 1u128 << c.n_informative {
        return Err(Error::invalid(
            OP,
            format!(
                "n_classes ({}) * n_clusters_per_class ({}) = {n_clusters} must be at most 2**n_informative ({}) = {}",
                c.n_classes,
                c.n_clusters_per_class,
                c.n_informative,
                1u128 << c.n_informative
            ),
        ));
    }
    if n_clusters > 1 << 30 {
        return Err(Error::invalid(OP, format!("{n_clusters} clusters are more than the 2**30 supported")));
    }
    if !(0.0..=1.0).contains(&c.flip_y) {
        return Err(Error::invalid(OP, format!("flip_y must be in [0, 1], got {}", c.flip_y)));
    }
    for (name, value) in [("class_sep", Some(c.class_sep)), ("scale", c.scale)] {
        match value {
            Some(v) if !(v.is_finite() && v > 0.0) => {
                return Err(Error::invalid(OP, format!("{name} must be finite and > 0, got {v}")));
            }
            _ => {}
        }
    }
    if let Some(shift) = c.shift.filter(|s| !s.is_finite()) {
        return Err(Error::invalid(OP, format!("shift must be finite, got {shift}")));
    }
    let weights = class_weights(c)?;
    let n_clusters = n_clusters as usize;
    let mut sizes: Vec<usize> = (0..n_clusters)
        .map(|k| (c.n_samples as f64 * weights[k % c.n_classes] / c.n_clusters_per_class as f64) as usize)
        .collect();
    let total = sizes.iter().fold(0usize, |sum, &size| sum.saturating_add(size));
    if total > c.n_samples {
        return Err(Error::invalid(
            OP,
            format!("weights {weights:?} ask for {total} samples, more than n_samples ({})", c.n_samples),
        ));
    }
    for k in 0..c.n_samples - total {
        sizes[k % n_clusters] += 1;
    }
    Ok(sizes)
}

/// The weight of each class: the given ones, completed to sum to 1 when one is missing, or all equal.
fn class_weights(c: &MakeClassification) -> Result<Vec<f64>> {
    let Some(given) = &c.weights else {
        return Ok(vec![1.0 / c.n_classes as f64; c.n_classes]);
    };
    let mut weights = given.clone();
    if weights.len() + 1 == c.n_classes {
        weights.push(1.0 - given.iter().sum::<f64>());
    } else if weights.len() != c.n_classes {
        return Err(Error::invalid(
            OP,
            format!(
                "weights has {} values, but n_classes is {}: give n_classes or n_classes - 1 weights",
                given.len(),
                c.n_classes
            ),
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        let completed = if weights.len() > given.len() { " (the last one is 1 - the sum of the others)" } else { "" };
        return Err(Error::invalid(OP, format!("weights must be finite and >= 0, got {weights:?}{completed}")));
    }
    Ok(weights)
}
