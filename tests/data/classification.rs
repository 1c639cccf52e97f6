//! `make_classification`: the structure and statistics of scikit-learn's generator, and every error.

use torchlet::data::{make_classification, MakeClassification};
use torchlet::Result;

/// Unshuffled, unflipped data of `n` samples: each cluster's rows in one run, labelled `k % n_classes`.
fn plain(n: usize, f: usize, inf: usize, red: usize, rep: usize) -> MakeClassification {
    let (n_samples, n_features, n_informative, n_redundant, n_repeated) = (n, f, inf, red, rep);
    MakeClassification {
        n_samples,
        n_features,
        n_informative,
        n_redundant,
        n_repeated,
        flip_y: 0.0,
        shuffle: false,
        ..Default::default()
    }
}

fn generate(config: &MakeClassification) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let data = make_classification::<f64>(config)?;
    Ok((data.x.to_vec2()?, data.y.to_labels()?))
}

/// The lengths of the runs of equal labels: the cluster sizes of unshuffled data with more than one class.
fn runs(y: &[usize]) -> Vec<usize> {
    let mut out = vec![1];
    for pair in y.windows(2) {
        if pair[0] == pair[1] {
            *out.last_mut().unwrap() += 1;
        } else {
            out.push(1);
        }
    }
    out
}

fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    (0..n_classes).map(|c| y.iter().filter(|&&v| v == c).count()).collect()
}

fn column(x: &[Vec<f64>], j: usize) -> Vec<f64> {
    x.iter().map(|row| row[j]).collect()
}

fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = v.into_iter().fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    sum / n as f64
}

/// The largest residual of the least-squares fit of `target` on the `columns` plus an intercept, by the normal
/// equations.
fn least_squares_residual(columns: &[Vec<f64>], target: &[f64]) -> f64 {
    let n = target.len();
    let mut a: Vec<Vec<f64>> = columns.to_vec();
    a.push(vec![1.0; n]);
    let k = a.len();
    // [AᵀA | Aᵀt], then Gauss-Jordan elimination with partial pivoting.
    let mut m: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            let mut row: Vec<f64> = (0..k).map(|j| (0..n).map(|r| a[i][r] * a[j][r]).sum()).collect();
            row.push((0..n).map(|r| a[i][r] * target[r]).sum());
            row
        })
        .collect();
    for c in 0..k {
        let pivot = (c..k).max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs())).unwrap();
        m.swap(c, pivot);
        for i in 0..k {
            if i != c {
                let factor = m[i][c] / m[c][c];
                let pivot_row = m[c].clone();
                m[i].iter_mut().zip(&pivot_row).for_each(|(v, p)| *v -= factor * p);
            }
        }
    }
    let coef: Vec<f64> = (0..k).map(|i| m[i][k] / m[i][i]).collect();
    (0..n).map(|r| (target[r] - (0..k).map(|i| coef[i] * a[i][r]).sum::<f64>()).abs()).fold(0.0, f64::max)
}

#[test]
fn clusters_take_contiguous_rows_in_the_tutorials_sizes() -> Result<()> {
    // T6: 4 clusters of 2 525; T7: 6 clusters of 1 683, the two samples left over going to clusters 0 and 1.
    let t6 = MakeClassification { n_classes: 2, ..plain(10_100, 6, 5, 0, 0) };
    let (x, y) = generate(&t6)?;
    assert_eq!((x.len(), x[0].len()), (10_100, 6));
    assert_eq!(runs(&y), [2_525; 4]);
    assert_eq!(y[0], 0);
    let t7 = MakeClassification { n_classes: 3, ..plain(10_100, 5, 4, 0, 0) };
    let y = generate(&t7)?.1;
    assert_eq!(runs(&y), [1_684, 1_684, 1_683, 1_683, 1_683, 1_683]);
    let starts: Vec<usize> = [0, 1_684, 3_368, 5_051, 6_734, 8_417].to_vec();
    assert_eq!(starts.iter().map(|&s| y[s]).collect::<Vec<_>>(), [0, 1, 2, 0, 1, 2]);
    // 7 samples in 4 clusters: 1 each, then the 3 left over to clusters 0, 1 and 2.
    let y = generate(&plain(7, 2, 2, 0, 0))?.1;
    assert_eq!(y, [0, 0, 1, 1, 0, 0, 1]);
    Ok(())
}

#[test]
fn weights_set_the_class_balance() -> Result<()> {
    let three =
        |weights: Vec<f64>| MakeClassification { n_classes: 3, weights: Some(weights), ..plain(1_000, 4, 3, 0, 0) };
    let y = generate(&three(vec![0.2, 0.3, 0.5]))?.1;
    assert_eq!(runs(&y), [100, 150, 250, 100, 150, 250]);
    assert_eq!(class_counts(&y, 3), [200, 300, 500]);
    // n_classes - 1 weights: the last class gets the rest.
    let y = generate(&three(vec![0.1, 0.2]))?.1;
    assert_eq!(class_counts(&y, 3), [100, 200, 700]);
    // Weights summing to less than 1 are not rescaled: the samples left over go round-robin over the clusters.
    let config =
        MakeClassification { n_clusters_per_class: 1, weights: Some(vec![0.1, 0.1]), ..plain(100, 2, 2, 0, 0) };
    assert_eq!(runs(&generate(&config)?.1), [50, 50]);
    // A weight of 0 leaves that class's clusters empty.
    let config = MakeClassification { n_clusters_per_class: 1, weights: Some(vec![0.0, 1.0]), ..plain(50, 2, 1, 0, 0) };
    assert_eq!(generate(&config)?.1, [1; 50]);
    Ok(())
}

#[test]
fn clusters_sit_on_distinct_hypercube_vertices() -> Result<()> {
    // 8 clusters in 3 informative dimensions use every vertex of {-3, 3}^3 once.
    let config = MakeClassification { n_clusters_per_class: 4, class_sep: 3.0, ..plain(4_000, 3, 3, 0, 0) };
    let (x, y) = generate(&config)?;
    let mut vertices = Vec::new();
    let mut start = 0;
    for size in runs(&y) {
        let rows = &x[start..start + size];
        start += size;
        let centroid: Vec<f64> = (0..3).map(|j| mean(rows.iter().map(|r| r[j]))).collect();
        for &c in &centroid {
            assert!((c.abs() - 3.0).abs() < 0.4, "cluster mean {centroid:?} is not on a vertex of side 3");
        }
        vertices.push(centroid.iter().map(|&c| c > 0.0).collect::<Vec<_>>());
    }
    vertices.sort();
    vertices.dedup();
    assert_eq!(vertices.len(), 8);
    // Without the hypercube, the vertices shrink by U(0, 1) factors per cluster and per dimension.
    let config = MakeClassification { hypercube: false, ..config };
    let (x, y) = generate(&config)?;
    let (mut start, mut inside) = (0, 0);
    for size in runs(&y) {
        let rows = &x[start..start + size];
        start += size;
        let centroid: Vec<f64> = (0..3).map(|j| mean(rows.iter().map(|r| r[j]))).collect();
        assert!(centroid.iter().all(|c| c.abs() < 3.4), "{centroid:?}");
        inside += centroid.iter().filter(|c| c.abs() < 2.4).count();
    }
    assert!(inside > 12, "only {inside} of 24 coordinates moved inside the cube");
    Ok(())
}

#[test]
fn only_informative_columns_depend_on_the_class() -> Result<()> {
    let config = MakeClassification { n_clusters_per_class: 1, class_sep: 2.0, ..plain(4_000, 5, 2, 0, 0) };
    let (x, y) = generate(&config)?;
    let gap = |j: usize| {
        let of = |c: usize| mean(x.iter().zip(&y).filter(|(_, &l)| l == c).map(|(r, _)| r[j]));
        (of(0) - of(1)).abs()
    };
    // Two distinct vertices of {-2, 2}^2 differ by 4 in at least one coordinate.
    assert!(gap(0).max(gap(1)) > 3.0, "informative gaps {} and {}", gap(0), gap(1));
    for j in 2..5 {
        assert!(gap(j) < 0.2, "useless column {j} has a class gap of {}", gap(j));
        assert!((mean(column(&x, j)) - 0.0).abs() < 0.1);
    }
    Ok(())
}

#[test]
fn redundant_columns_are_combinations_of_the_informative_ones() -> Result<()> {
    for (shift, scale) in [(Some(0.0), Some(1.0)), (None, None)] {
        let config = MakeClassification { shift, scale, ..plain(500, 7, 3, 2, 0) };
        let (x, _) = generate(&config)?;
        let informative: Vec<Vec<f64>> = (0..3).map(|j| column(&x, j)).collect();
        for j in 3..5 {
            let size = column(&x, j).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(least_squares_residual(&informative, &column(&x, j)) < 1e-9 * size.max(1.0));
        }
        // A useless column is no such combination.
        assert!(least_squares_residual(&informative, &column(&x, 5)) > 1.0);
    }
    Ok(())
}

#[test]
fn repeated_columns_copy_earlier_ones() -> Result<()> {
    let (x, _) = generate(&plain(200, 10, 3, 2, 3))?;
    for j in 5..8 {
        let copy = column(&x, j);
        assert!((0..5).any(|source| column(&x, source) == copy), "column {j} copies none of columns 0..5");
    }
    for j in 8..10 {
        assert!((0..j).all(|other| column(&x, other) != column(&x, j)));
    }
    Ok(())
}

#[test]
fn shuffle_permutes_rows_with_their_labels_then_columns() -> Result<()> {
    let config = MakeClassification { n_classes: 3, ..plain(300, 6, 3, 1, 0) };
    let (x0, y0) = generate(&config)?;
    let (x, y) = generate(&MakeClassification { shuffle: true, ..config })?;
    assert_ne!(x, x0);
    assert_eq!(class_counts(&y, 3), class_counts(&y0, 3));
    // Match each shuffled column to the unshuffled column with the same values.
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let columns: Vec<usize> = (0..6)
        .map(|j| (0..6).find(|&c| sorted(column(&x0, c)) == sorted(column(&x, j))).expect("a permuted column"))
        .collect();
    assert_ne!(columns, (0..6).collect::<Vec<_>>());
    // Each shuffled row, its columns put back, is a row of the unshuffled data with the same label.
    for (row, label) in x.iter().zip(&y) {
        let mut original = vec![0.0; 6];
        for (j, &c) in columns.iter().enumerate() {
            original[c] = row[j];
        }
        let r = x0.iter().position(|r0| *r0 == original).expect("a permuted row");
        assert_eq!(y0[r], *label);
    }
    Ok(())
}

#[test]
fn flips_replace_labels_at_the_given_rate() -> Result<()> {
    let config = MakeClassification { n_classes: 4, n_clusters_per_class: 1, ..plain(20_000, 3, 2, 0, 0) };
    let (x0, y0) = generate(&config)?;
    let (x, y) = generate(&MakeClassification { flip_y: 0.5, ..config })?;
    assert_eq!(x, x0, "flips come after the features");
    // Half the labels are redrawn uniformly, so 3/4 of those change: 37.5%.
    let changed = y.iter().zip(&y0).filter(|(a, b)| a != b).count() as f64 / 20_000.0;
    assert!((changed - 0.375).abs() < 0.02, "changed {changed}");
    assert!(y.iter().all(|&l| l < 4));
    Ok(())
}

#[test]
fn shift_and_scale_apply_per_column() -> Result<()> {
    let config = plain(50, 4, 2, 1, 0);
    let (x0, _) = generate(&config)?;
    let (x, _) = generate(&MakeClassification { shift: Some(5.0), scale: Some(2.0), ..config.clone() })?;
    for (row, row0) in x.iter().zip(&x0) {
        for (v, v0) in row.iter().zip(row0) {
            assert_eq!(*v, (v0 + 5.0) * 2.0);
        }
    }
    // Drawn: x = (x0 + s_j) c_j with s_j in [-class_sep, class_sep] = [-1, 1] and c_j in [1, 101].
    let (x, _) = generate(&MakeClassification { shift: None, scale: None, ..config })?;
    for j in 0..4 {
        let c = (x[1][j] - x[0][j]) / (x0[1][j] - x0[0][j]);
        let s = x[0][j] / c - x0[0][j];
        assert!((1.0..=101.0).contains(&c) && (-1.0..=1.0).contains(&s), "column {j}: scale {c}, shift {s}");
        for (row, row0) in x.iter().zip(&x0) {
            let error = (row[j] - (row0[j] + s) * c).abs();
            assert!(error < 1e-9 * c * (row0[j].abs() + 1.0), "column {j}: error {error}, scale {c}");
        }
    }
    Ok(())
}

#[test]
fn seeds_reproduce_and_f32_follows_f64() -> Result<()> {
    let config = MakeClassification::default();
    let (a, b) = (make_classification::<f64>(&config)?, make_classification::<f64>(&config)?);
    assert_eq!((a.x.to_vec()?, &a.y.to_labels()?), (b.x.to_vec()?, &b.y.to_labels()?));
    assert_eq!((a.x.shape(), a.y.numel()), (&[100, 20][..], 100));
    let other = make_classification::<f64>(&MakeClassification { seed: 1, ..config.clone() })?;
    assert_ne!(a.x.to_vec()?, other.x.to_vec()?);
    let single = make_classification::<f32>(&config)?;
    assert_eq!(single.y.to_labels()?, a.y.to_labels()?);
    for (s, d) in single.x.to_vec()?.iter().zip(a.x.to_vec()?) {
        assert!((f64::from(*s) - d).abs() <= 1e-6 * d.abs().max(1.0));
    }
    Ok(())
}
