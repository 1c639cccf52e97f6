//! `make_classification`: scikit-learn's random n-class problem of Gaussian clusters on hypercube vertices.

use super::labeled::{labels_to_tensor, matrix, shuffle_rows, Classification};
use crate::element::Element;
use crate::error::Result;
use rand::rngs::StdRng;
use rand::seq::{index, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

mod config;

pub use config::MakeClassification;

const OP: &str = "make_classification";

/// A random classification problem, as scikit-learn's `make_classification`.
///
/// With `n_clusters = n_classes · n_clusters_per_class`, in this order:
/// 1. cluster `k` gets `⌊n_samples · weight[k % n_classes] / n_clusters_per_class⌋` samples, and the samples
///    left over go one each to clusters 0, 1, 2, ... in turn;
/// 2. the centroids are `n_clusters` distinct vertices of `{-class_sep, class_sep}^n_informative`;
/// 3. the informative columns start as N(0, 1); cluster `k` takes the next rows in order, labels them
///    `k % n_classes`, and maps them to `x · A + centroid` with its own `A = 2 U(0, 1) - 1`
///    (`n_informative × n_informative`);
/// 4. the redundant columns are `X_informative · B`, `B = 2 U(0, 1) - 1`;
/// 5. each repeated column copies column `⌊(n_informative + n_redundant - 1) · U(0, 1) + 0.5⌋`;
/// 6. the remaining columns are N(0, 1) noise;
/// 7. each label is replaced, with probability `flip_y`, by a uniformly drawn class;
/// 8. `X = (X + shift) · scale`, column by column;
/// 9. with `shuffle`, the rows are permuted (labels with them), then the columns.
///
/// The draws happen in that order, in `f64`, from `StdRng::seed_from_u64(seed)`, so the numbers are not
/// NumPy's but f32 and f64 get the same data up to rounding.
///
/// Fails, as scikit-learn does, when a count that must be at least 1 is 0, when `n_informative + n_redundant
/// + n_repeated > n_features`, when `2^n_informative < n_classes · n_clusters_per_class`, or when `weights`
/// has neither `n_classes` nor `n_classes - 1` values; and on a `flip_y` outside [0, 1], a `class_sep` or
/// `scale` that is not finite and > 0, a non-finite shift, or weights that are negative, not finite, or ask
/// for more than `n_samples` samples in all.
///
/// ```
/// use torchlet::data::{make_classification, MakeClassification};
/// let config = MakeClassification { n_samples: 10_100, n_features: 5, n_classes: 3, n_informative: 4,
///     n_redundant: 0, flip_y: 0.0, shuffle: false, ..Default::default() };
/// let data = make_classification::<f64>(&config)?;
/// assert_eq!(data.x.shape(), &[10_100, 5]);
/// // 6 clusters of 1 683, the 2 samples left over going to clusters 0 and 1; labels k % 3.
/// let labels = data.y.to_labels()?;
/// let class_sizes: Vec<usize> = (0..3).map(|c| labels.iter().filter(|&&y| y == c).count()).collect();
/// assert_eq!(class_sizes, [1_684 + 1_683, 1_684 + 1_683, 2 * 1_683]);
/// assert_eq!(&labels[1_684..1_686], &[1, 1]);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub fn make_classification<T: Element>(config: &MakeClassification) -> Result<Classification<T>> {
    let sizes = config::cluster_sizes(config)?;
    let MakeClassification { n_samples: n, n_features: f, n_informative: inf, n_redundant: red, .. } = *config;
    let (n_classes, class_sep) = (config.n_classes, config.class_sep);
    let mut rng = StdRng::seed_from_u64(config.seed);

    let mut centroids = hypercube_vertices(sizes.len(), inf, &mut rng);
    for v in &mut centroids {
        *v = *v * 2.0 * class_sep - class_sep;
    }
    if !config.hypercube {
        let (per_cluster, per_dim) = (uniform(&mut rng, sizes.len()), uniform(&mut rng, inf));
        for (centroid, &a) in centroids.chunks_exact_mut(inf).zip(&per_cluster) {
            for (v, &b) in centroid.iter_mut().zip(&per_dim) {
                *v = *v * a * b;
            }
        }
    }

    let mut x = vec![0.0; n * f];
    for row in x.chunks_exact_mut(f) {
        row[..inf].iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
    }
    let mut y = Vec::with_capacity(n);
    let mut rows = x.chunks_exact_mut(f);
    for (k, (&size, centroid)) in sizes.iter().zip(centroids.chunks_exact(inf)).enumerate() {
        let a = signed_uniform(&mut rng, inf * inf);
        for row in rows.by_ref().take(size) {
            let mixed = times(&row[..inf], &a, inf);
            for ((v, m), c) in row.iter_mut().zip(mixed).zip(centroid) {
                *v = m + c;
            }
            y.push(k % n_classes);
        }
    }

    if red > 0 {
        let b = signed_uniform(&mut rng, inf * red);
        for row in x.chunks_exact_mut(f) {
            let combined = times(&row[..inf], &b, red);
            row[inf..inf + red].copy_from_slice(&combined);
        }
    }
    let first_repeated = inf + red;
    let sources: Vec<usize> = uniform(&mut rng, config.n_repeated)
        .into_iter()
        .map(|u| ((first_repeated - 1) as f64 * u + 0.5) as usize)
        .collect();
    let first_useless = first_repeated + sources.len();
    for row in x.chunks_exact_mut(f) {
        for (j, &source) in sources.iter().enumerate() {
            row[first_repeated + j] = row[source];
        }
        row[first_useless..].iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
    }

    let flipped: Vec<bool> = uniform(&mut rng, n).into_iter().map(|u| u < config.flip_y).collect();
    for (label, _) in y.iter_mut().zip(flipped).filter(|(_, flip)| *flip) {
        *label = rng.random_range(0..n_classes);
    }

    let shift = match config.shift {
        Some(s) => vec![s; f],
        None => signed_uniform(&mut rng, f).into_iter().map(|u| u * class_sep).collect(),
    };
    let scale = match config.scale {
        Some(s) => vec![s; f],
        None => uniform(&mut rng, f).into_iter().map(|u| 1.0 + 100.0 * u).collect(),
    };
    for row in x.chunks_exact_mut(f) {
        for ((v, s), c) in row.iter_mut().zip(&shift).zip(&scale) {
            *v = (*v + s) * c;
        }
    }

    if config.shuffle {
        shuffle_rows(&mut x, &mut y, f, &mut rng);
        let mut columns: Vec<usize> = (0..f).collect();
        columns.shuffle(&mut rng);
        x = x.chunks_exact(f).flat_map(|row| columns.iter().map(move |&c| row[c])).collect();
    }
    Ok(Classification { x: matrix(x, f)?, y: labels_to_tensor(&y) })
}

/// `count` draws from U(0, 1).
fn uniform(rng: &mut StdRng, count: usize) -> Vec<f64> {
    (0..count).map(|_| rng.random()).collect()
}

/// `count` draws from U(-1, 1), as `2 U(0, 1) - 1`.
fn signed_uniform(rng: &mut StdRng, count: usize) -> Vec<f64> {
    uniform(rng, count).into_iter().map(|u| 2.0 * u - 1.0).collect()
}

/// `row · m` for a row of length `m.len() / width` and a row-major matrix `m` of `width` columns.
fn times(row: &[f64], m: &[f64], width: usize) -> Vec<f64> {
    let mut out = vec![0.0; width];
    for (&r, m_row) in row.iter().zip(m.chunks_exact(width)) {
        for (o, &v) in out.iter_mut().zip(m_row) {
            *o += r * v;
        }
    }
    out
}

/// `count` distinct vertices of `{0, 1}^dims`, row-major: the last (up to) 30 coordinates are the bits of
/// integers drawn without replacement, any earlier ones fair coin flips.
fn hypercube_vertices(count: usize, dims: usize, rng: &mut StdRng) -> Vec<f64> {
    let low = dims.min(30);
    let high: Vec<f64> = (0..count * (dims - low)).map(|_| f64::from(rng.random_range(0..2u8))).collect();
    let distinct = index::sample(rng, 1 << low, count);
    let mut out = Vec::with_capacity(count * dims);
    for (k, bits) in distinct.iter().enumerate() {
        out.extend_from_slice(&high[k * (dims - low)..(k + 1) * (dims - low)]);
        out.extend((0..low).rev().map(|b| ((bits >> b) & 1) as f64));
    }
    out
}
