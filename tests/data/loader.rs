//! `data`: TensorDataset, DataLoader, make_regression and train_test_split.

use torchlet::data::{make_regression, train_test_split, DataLoader, MakeRegression, TensorDataset, TestSize};
use torchlet::{Result, Tensor};

/// A dataset whose sample i is x = [i, 10 i] and y = -i, so every batch tells which samples it holds.
fn numbered(n: usize) -> Result<TensorDataset<f64>> {
    let x = Tensor::from_vec((0..n).flat_map(|i| [i as f64, 10.0 * i as f64]).collect(), &[n, 2])?;
    let y = Tensor::from_vec((0..n).map(|i| -(i as f64)).collect(), &[n])?;
    TensorDataset::new(vec![x, y])
}

/// The sample ids in each batch, checking that x and y agree row by row.
fn epoch(loader: &mut DataLoader<f64>) -> Result<Vec<Vec<usize>>> {
    let mut out = Vec::new();
    for pair in loader.iter_pairs()? {
        let (x, y) = pair?;
        let ids: Vec<usize> = y.to_vec()?.iter().map(|v| (-v) as usize).collect();
        let rows = x.to_vec2()?;
        for (row, &id) in rows.iter().zip(&ids) {
            assert_eq!(row, &vec![id as f64, 10.0 * id as f64]);
        }
        out.push(ids);
    }
    Ok(out)
}

#[test]
fn dataset_rows_and_errors() -> Result<()> {
    let ds = numbered(4)?;
    assert_eq!((ds.len(), ds.is_empty(), ds.tensors().len()), (4, false, 2));
    let sample = ds.get(2)?;
    assert_eq!((sample[0].to_vec()?, sample[1].shape()), (vec![2.0, 20.0], &[] as &[usize]));
    assert_eq!(
        ds.get(4).unwrap_err().to_string(),
        "TensorDataset::get: index 4 is out of range for a dataset of 4 samples"
    );
    let err = |v: Vec<Tensor<f64>>| TensorDataset::new(v).unwrap_err().to_string();
    assert_eq!(err(vec![]), "TensorDataset: at least one tensor is required");
    assert_eq!(
        err(vec![Tensor::zeros(&[3]), Tensor::scalar(1.0)]),
        "TensorDataset: tensor 1 is 0-D (shape []) and has no first dimension"
    );
    assert_eq!(
        err(vec![Tensor::zeros(&[3, 2]), Tensor::zeros(&[2, 3])]),
        "TensorDataset: size mismatch between tensors: first dimensions differ in shapes [[3, 2], [2, 3]]"
    );
    Ok(())
}

#[test]
fn unshuffled_batches_are_consecutive_with_a_short_last_one() -> Result<()> {
    let mut loader = DataLoader::new(numbered(10)?, 3)?;
    assert_eq!(loader.len(), 4);
    let batches = epoch(&mut loader)?;
    assert_eq!(batches, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]);
    assert_eq!(loader.epoch_indices(), (0..10).collect::<Vec<_>>());
    // The T1 shape: 100 samples in batches of 33 → 33, 33, 33, 1.
    let mut t1 = DataLoader::new(numbered(100)?, 33)?;
    let sizes: Vec<usize> = epoch(&mut t1)?.iter().map(Vec::len).collect();
    assert_eq!(sizes, [33, 33, 33, 1]);
    // An exact multiple has no short batch; a batch larger than the data is one batch of everything.
    assert_eq!(epoch(&mut DataLoader::new(numbered(9)?, 3)?)?.len(), 3);
    assert_eq!(epoch(&mut DataLoader::new(numbered(4)?, 10)?)?, vec![vec![0, 1, 2, 3]]);
    Ok(())
}

#[test]
fn unshuffled_batches_are_views() -> Result<()> {
    let mut loader = DataLoader::new(numbered(6)?, 4)?;
    let batches: Vec<Vec<Tensor<f64>>> = loader.iter().collect::<Result<_>>()?;
    // Writing through the dataset shows up in a batch taken before: they share storage.
    loader.dataset().tensors()[1].fill_(7.0)?;
    assert_eq!(batches[1][1].to_vec()?, vec![7.0, 7.0]);
    Ok(())
}

#[test]
fn drop_last_drops_only_a_short_batch() -> Result<()> {
    let mut loader = DataLoader::new(numbered(10)?, 3)?.drop_last(true);
    assert_eq!(loader.len(), 3);
    assert_eq!(epoch(&mut loader)?, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8]]);
    assert_eq!(DataLoader::new(numbered(9)?, 3)?.drop_last(true).len(), 3);
    let mut none = DataLoader::new(numbered(2)?, 3)?.drop_last(true);
    assert!(none.is_empty());
    assert!(epoch(&mut none)?.is_empty());
    let mut shuffled = DataLoader::new(numbered(10)?, 4)?.drop_last(true).shuffle(true).seed(3);
    let batches = epoch(&mut shuffled)?;
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4]);
    assert_eq!(batches.concat(), shuffled.epoch_indices()[..8]);
    Ok(())
}

#[test]
fn shuffled_epochs_are_permutations_that_replay_from_the_indices() -> Result<()> {
    let mut loader = DataLoader::new(numbered(23)?, 5)?.shuffle(true).seed(11);
    let mut orders = Vec::new();
    for _ in 0..4 {
        let batches = epoch(&mut loader)?;
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 5, 5, 3]);
        let order = loader.epoch_indices().to_vec();
        assert_eq!(batches.concat(), order, "the batches follow the exposed order");
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..23).collect::<Vec<_>>(), "a true permutation");
        orders.push(order);
    }
    assert_ne!(orders[0], (0..23).collect::<Vec<_>>(), "shuffled");
    for i in 0..orders.len() {
        for j in 0..i {
            assert_ne!(orders[i], orders[j], "epochs {j} and {i} should be reshuffled");
        }
    }
    // The same seed replays the same epochs; another seed gives others.
    let mut same = DataLoader::new(numbered(23)?, 5)?.shuffle(true).seed(11);
    let mut other = DataLoader::new(numbered(23)?, 5)?.shuffle(true).seed(12);
    for order in &orders {
        let batches = epoch(&mut same)?;
        assert_eq!(&batches.concat(), order);
        epoch(&mut other)?;
        assert_ne!(other.epoch_indices(), order.as_slice());
    }
    Ok(())
}

#[test]
fn batch_iterators_expose_the_order_and_their_length() -> Result<()> {
    let mut loader = DataLoader::new(numbered(7)?, 2)?.shuffle(true).seed(5);
    let batches = loader.iter();
    assert_eq!(batches.len(), 4);
    let order = batches.indices().to_vec();
    let firsts: Vec<usize> =
        batches.map(|b| b.map(|b| (-b[1].to_vec().unwrap()[0]) as usize)).collect::<Result<_>>()?;
    assert_eq!(firsts, [order[0], order[2], order[4], order[6]]);
    let mut count = 0;
    for batch in &mut loader {
        assert_eq!(batch?.len(), 2);
        count += 1;
    }
    assert_eq!(count, 4);
    Ok(())
}

#[test]
fn loader_errors() -> Result<()> {
    assert_eq!(
        DataLoader::new(numbered(3)?, 0).unwrap_err().to_string(),
        "DataLoader: batch_size should be a positive integer, got 0"
    );
    let empty = TensorDataset::new(vec![Tensor::<f64>::zeros(&[0, 2])])?;
    assert_eq!(
        DataLoader::new(empty, 4).unwrap_err().to_string(),
        "DataLoader: the dataset is empty (0 samples; shapes [[0, 2]])"
    );
    let three = TensorDataset::new(vec![Tensor::<f64>::zeros(&[3]), Tensor::zeros(&[3]), Tensor::zeros(&[3])])?;
    let mut loader = DataLoader::new(three, 2)?;
    assert_eq!(
        loader.iter_pairs().err().unwrap().to_string(),
        "DataLoader::iter_pairs: (x, y) pairs need a dataset of exactly 2 tensors, this one has 3"
    );
    assert_eq!(loader.iter().next().unwrap()?.len(), 3);
    Ok(())
}

fn regression(config: MakeRegression) -> torchlet::data::Regression<f64> {
    make_regression::<f64>(&config).unwrap()
}

/// Rows of a `[f]` or `[f, t]` coefficient tensor with at least one nonzero entry.
fn nonzero_rows(coef: &Tensor<f64>) -> usize {
    let cols = coef.shape().get(1).copied().unwrap_or(1);
    coef.to_vec().unwrap().chunks(cols).filter(|row| row.iter().any(|&c| c != 0.0)).count()
}

#[test]
fn make_regression_shapes_and_defaults() -> Result<()> {
    let d = regression(MakeRegression::default());
    assert_eq!((d.x.shape(), d.y.shape(), d.coef.shape()), (&[100, 100][..], &[100][..], &[100][..]));
    assert_eq!(nonzero_rows(&d.coef), 10);
    let m = regression(MakeRegression { n_samples: 30, n_features: 5, n_targets: 3, ..Default::default() });
    assert_eq!((m.x.shape(), m.y.shape(), m.coef.shape()), (&[30, 5][..], &[30, 3][..], &[5, 3][..]));
    assert_eq!(nonzero_rows(&m.coef), 5, "n_informative above n_features counts as n_features");
    let one = regression(MakeRegression { n_samples: 1, n_features: 1, ..Default::default() });
    assert_eq!((one.x.shape(), one.y.shape(), one.coef.shape()), (&[1, 1][..], &[1][..], &[1][..]));
    Ok(())
}

#[test]
fn make_regression_informative_rows_are_permuted_with_the_features() -> Result<()> {
    for seed in 0..5 {
        let config = MakeRegression {
            n_samples: 40,
            n_features: 12,
            n_informative: 4,
            n_targets: 2,
            seed,
            ..Default::default()
        };
        let d = regression(config);
        assert_eq!(nonzero_rows(&d.coef), 4, "seed {seed}");
        assert!(d.coef.to_vec()?.iter().all(|&c| (0.0..100.0).contains(&c)));
        let unshuffled = regression(MakeRegression { shuffle: false, ..config });
        let rows = unshuffled.coef.to_vec2()?;
        assert!(rows[..4].iter().all(|r| r.iter().all(|&c| c > 0.0)) && rows[4..].iter().flatten().all(|&c| c == 0.0));
    }
    let shuffled = regression(MakeRegression { n_features: 12, n_informative: 4, seed: 1, ..Default::default() });
    let positions: Vec<usize> = (0..12).filter(|&i| shuffled.coef.to_vec().unwrap()[i] != 0.0).collect();
    assert_ne!(positions, [0, 1, 2, 3], "shuffling moves the informative features");
    Ok(())
}

#[test]
fn make_regression_targets_are_the_linear_model() -> Result<()> {
    for (n_targets, bias) in [(1, 0.0), (1, 0.37), (3, -12.5)] {
        let config = MakeRegression {
            n_samples: 200,
            n_features: 6,
            n_informative: 3,
            n_targets,
            bias,
            seed: 4,
            ..Default::default()
        };
        let d = regression(config);
        let residual = (&(&d.x.matmul(&d.coef)? + bias) - &d.y).abs()?.to_vec()?;
        assert!(
            residual.iter().all(|&r| r < 1e-10),
            "noise 0 is exact: {:?}",
            residual.iter().cloned().fold(0.0, f64::max)
        );
    }
    // With noise, the residual is N(0, noise²).
    let noise = 2.0;
    let d = regression(MakeRegression {
        n_samples: 20_000,
        n_features: 3,
        noise,
        bias: 1.0,
        seed: 8,
        ..Default::default()
    });
    let residual = (&d.y - &(&d.x.matmul(&d.coef)? + 1.0)).to_vec()?;
    let n = residual.len() as f64;
    let mean = residual.iter().sum::<f64>() / n;
    let sd = (residual.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 5.0 * noise / n.sqrt() && (sd / noise - 1.0).abs() < 0.03, "mean {mean}, sd {sd}");
    Ok(())
}

#[test]
fn make_regression_is_reproducible_and_f32_matches() -> Result<()> {
    let config = MakeRegression { n_samples: 50, n_features: 4, noise: 1.0, seed: 21, ..Default::default() };
    let (a, b) = (regression(config), regression(config));
    assert_eq!((a.x.to_vec()?, a.y.to_vec()?, a.coef.to_vec()?), (b.x.to_vec()?, b.y.to_vec()?, b.coef.to_vec()?));
    let c = regression(MakeRegression { seed: 22, ..config });
    assert_ne!(a.x.to_vec()?, c.x.to_vec()?);
    let f = make_regression::<f32>(&config)?;
    let same = f.y.to_vec()?.iter().zip(a.y.to_vec()?).all(|(&s, d)| (s as f64 - d).abs() <= 1e-5 * d.abs().max(1.0));
    assert!(same, "f32 is the f64 data rounded");
    Ok(())
}

#[test]
fn make_regression_errors() {
    let err = |c: MakeRegression| make_regression::<f64>(&c).unwrap_err().to_string();
    let d = MakeRegression::default();
    assert_eq!(err(MakeRegression { n_samples: 0, ..d }), "make_regression: n_samples must be at least 1, got 0");
    assert_eq!(err(MakeRegression { n_features: 0, ..d }), "make_regression: n_features must be at least 1, got 0");
    assert_eq!(err(MakeRegression { n_targets: 0, ..d }), "make_regression: n_targets must be at least 1, got 0");
    assert_eq!(err(MakeRegression { noise: -1.0, ..d }), "make_regression: noise must be finite and >= 0, got -1");
    assert_eq!(err(MakeRegression { noise: f64::NAN, ..d }), "make_regression: noise must be finite and >= 0, got NaN");
    assert_eq!(err(MakeRegression { bias: f64::INFINITY, ..d }), "make_regression: bias must be finite, got inf");
}

#[test]
fn train_test_split_sizes_and_consistency() -> Result<()> {
    let ds = numbered(1500)?;
    let (x, y) = (&ds.tensors()[0], &ds.tensors()[1]);
    let [(x_train, x_test), (y_train, y_test)] = train_test_split([x, y], 0.2, true, 42)?;
    assert_eq!(
        (x_train.shape(), x_test.shape(), y_train.shape(), y_test.shape()),
        (&[1200, 2][..], &[300, 2][..], &[1200][..], &[300][..])
    );
    let ids = |t: &Tensor<f64>| t.to_vec().unwrap().iter().map(|v| (-v) as usize).collect::<Vec<_>>();
    let (train_ids, test_ids) = (ids(&y_train), ids(&y_test));
    // x follows y row by row.
    assert_eq!(x_train.to_vec2()?.iter().map(|r| r[0] as usize).collect::<Vec<_>>(), train_ids);
    assert_eq!(x_test.to_vec2()?.iter().map(|r| r[0] as usize).collect::<Vec<_>>(), test_ids);
    let mut all = [train_ids.clone(), test_ids.clone()].concat();
    all.sort_unstable();
    assert_eq!(all, (0..1500).collect::<Vec<_>>(), "train and test partition the samples");
    assert_ne!(train_ids[..10], (0..10).collect::<Vec<_>>()[..], "shuffled");
    // Reproducible with the seed, different with another.
    let [(_, again)] = train_test_split([y], 0.2, true, 42)?;
    assert_eq!(ids(&again), test_ids);
    let [(_, other)] = train_test_split([y], 0.2, true, 43)?;
    assert_ne!(ids(&other), test_ids);
    // sklearn puts ceil(test_size · n) in test.
    let [(train, test)] = train_test_split([y], 0.001, false, 0)?;
    assert_eq!((train.shape(), test.shape()), (&[1498][..], &[2][..]));
    let [(train, test)] = train_test_split([y], TestSize::Count(7), false, 0)?;
    assert_eq!((ids(&train), ids(&test)), ((0..1493).collect(), (1493..1500).collect()));
    Ok(())
}

#[test]
fn train_test_split_errors() -> Result<()> {
    let y = Tensor::<f64>::zeros(&[10]);
    let err = |s: TestSize| train_test_split([&y], s, true, 0).unwrap_err().to_string();
    for bad in [0.0, 1.0, 1.5, -0.2, f64::NAN] {
        assert_eq!(
            err(TestSize::Fraction(bad)),
            format!("train_test_split: test_size={bad} should be a fraction in (0, 1) or a count in [1, n_samples - 1] (n_samples = 10)")
        );
    }
    assert!(err(TestSize::Count(0)).starts_with("train_test_split: test_size=0 should be"));
    assert!(err(TestSize::Count(10)).starts_with("train_test_split: test_size=10 should be"));
    assert_eq!(
        err(TestSize::Fraction(0.95)),
        "train_test_split: with n_samples=10 and test_size=0.95, the resulting train set would be empty"
    );
    let z = Tensor::<f64>::zeros(&[9, 2]);
    assert_eq!(
        train_test_split([&y, &z], 0.2, true, 0).unwrap_err().to_string(),
        "train_test_split: size mismatch between tensors: first dimensions differ in shapes [[10], [9, 2]]"
    );
    assert_eq!(
        train_test_split::<f64, 0>([], 0.2, true, 0).unwrap_err().to_string(),
        "train_test_split: at least one tensor is required"
    );
    Ok(())
}
