//! torch's call shapes: the default generator behind `Linear::new`, `Dropout::new`, `Dropout2d::new`,
//! `Tensor::randn` and a shuffling `DataLoader`; label tensors from the data sets through the loader into the losses and metrics;
//! `train()`/`eval()`; `clip_grad_norm_(params, max_norm)`; and the two-moons example built from them.

use std::sync::{Mutex, MutexGuard};
use torchlet::data::{make_moons, train_test_split, MakeMoons};
use torchlet::metrics::accuracy;
use torchlet::nn::utils::{clip_grad_norm_, clip_grad_norm_with, ClipGradNorm};
use torchlet::prelude::*;

#[path = "../../examples/two_moons.rs"]
mod two_moons;

/// The default generator is one per process, and the tests of this binary run in parallel: the tests that
/// draw from it take turns, so each sees the stream its own `manual_seed` started.
static DEFAULT_GENERATOR: Mutex<()> = Mutex::new(());

fn default_generator() -> MutexGuard<'static, ()> {
    DEFAULT_GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn values(t: &Tensor<f32>) -> Vec<f32> {
    t.to_vec().unwrap()
}

#[test]
fn manual_seed_repeats_every_default_generator_draw() -> Result<()> {
    let _turn = default_generator();
    let draw = || -> Result<Vec<Vec<f32>>> {
        manual_seed(42);
        let linear = Linear::<f32>::new(3, 4);
        let x = Tensor::<f32>::randn(&[2, 3]);
        let u = Tensor::<f32>::rand(&[5]);
        let dropped = Dropout::new(0.5).forward(&Tensor::<f32>::ones(&[16]))?;
        let channels = Dropout2d::new(0.5).forward(&Tensor::<f32>::ones(&[4, 4, 1, 1]))?;
        let mut loader = DataLoader::new(TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])])?, 4)?.shuffle(true);
        loader.iter();
        let order: Vec<f32> = loader.epoch_indices().iter().map(|&i| i as f32).collect();
        Ok(vec![
            values(linear.weight()),
            values(linear.bias().unwrap()),
            values(&x),
            values(&u),
            values(&dropped),
            values(&channels),
            order,
        ])
    };
    let first = draw()?;
    assert_eq!(first, draw()?);
    assert_eq!(initial_seed(), 42);
    manual_seed(43);
    assert_ne!(values(Linear::<f32>::new(3, 4).weight()), first[0], "another seed, other weights");
    Ok(())
}

#[test]
fn linear_new_is_torchs_default_layer() {
    let _turn = default_generator();
    manual_seed(0);
    let layer = Linear::<f64>::new(16, 8);
    let bound = 1.0 / 4.0;
    assert_eq!((layer.weight().shape(), layer.bias().unwrap().shape()), (&[8, 16][..], &[8][..]));
    assert!(layer.parameters().iter().all(|p| p.requires_grad()));
    let weights = layer.weight().to_vec().unwrap();
    assert!(weights.iter().all(|w| w.abs() <= bound), "U(-1/√16, 1/√16)");
    assert!(weights.iter().any(|w| w.abs() > bound / 2.0), "spread over the range, not clustered at 0");
    assert!(Linear::<f32>::without_bias(4, 2).bias().is_none());
}

#[test]
fn each_epoch_of_an_unseeded_shuffling_loader_is_a_fresh_permutation() -> Result<()> {
    let _turn = default_generator();
    manual_seed(5);
    let mut loader = DataLoader::new(TensorDataset::new(vec![Tensor::<f32>::zeros(&[50])])?, 8)?.shuffle(true);
    loader.iter();
    let first = loader.epoch_indices().to_vec();
    loader.iter();
    assert_ne!(first, loader.epoch_indices(), "a new permutation each epoch");
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn label_tensors_flow_from_the_data_set_through_the_loader_into_the_loss() -> Result<()> {
    let data = make_moons::<f64>(&MakeMoons { n_samples: 40, noise: Some(0.1), ..Default::default() })?;
    let [(x_train, _), (y_train, _)] = train_test_split([&data.x, &data.y], 0.25, true, 3)?;
    let logits = Tensor::<f64>::new([[0.3, -0.2]]).expand(&[30, 2])?.contiguous()?;
    let mut loader = DataLoader::new(TensorDataset::new(vec![x_train, y_train])?, 7)?.shuffle(true).seed(1);
    for batch in loader.iter_pairs()? {
        let (xb, yb) = batch?;
        let n = xb.shape()[0];
        let scores = logits.narrow(0, 0, n)?.requires_grad_(true)?;
        let as_usize = yb.to_labels()?;
        let by_tensor = F::cross_entropy(&scores, &yb)?;
        let by_slice = F::cross_entropy(&scores, &as_usize)?;
        assert_eq!(by_tensor.item()?, by_slice.item()?);
        by_tensor.backward()?;
        let grad_by_tensor = scores.grad().unwrap().to_vec()?;
        scores.zero_grad();
        by_slice.backward()?;
        assert_eq!(grad_by_tensor, scores.grad().unwrap().to_vec()?);
        assert_eq!(accuracy(&yb, &as_usize)?, 1.0);
    }
    Ok(())
}

#[test]
fn an_unbatched_input_takes_a_0_dim_label_and_arrays_are_labels() -> Result<()> {
    let logits = Tensor::<f64>::new([1.0, 2.0, 0.5]);
    let by_scalar = F::cross_entropy(&logits, &Tensor::scalar(1.0))?.item()?;
    assert_eq!(by_scalar, F::cross_entropy(&logits, &[1])?.item()?);
    let expected = -(2.0 - (1f64.exp() + 2f64.exp() + 0.5f64.exp()).ln());
    assert!((by_scalar - expected).abs() <= 1e-15 * expected.abs());
    let batch = Tensor::<f64>::new([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]]);
    let loss = CrossEntropyLoss::new().forward(&batch, &[1, 2])?.item()?;
    assert_eq!(loss, F::cross_entropy(&batch, &Tensor::new([1.0, 2.0]))?.item()?);
    assert_eq!(NLLLoss::new().forward(&batch, &[0, 2])?.item()?, -(1.0 + 3.0) / 2.0);
    Ok(())
}

#[test]
fn train_and_eval_switch_every_layer_of_a_container() -> Result<()> {
    let mut model = Sequential::<f64>::new().add(Dropout::with_seed(0.5, 3)?);
    let ones = Tensor::ones(&[64]);
    model.eval();
    assert_eq!(model.forward(&ones)?.to_vec()?, vec![1.0; 64]);
    model.train();
    let dropped = model.forward(&ones)?.to_vec()?;
    assert!(dropped.contains(&0.0) && dropped.contains(&2.0), "dropout is on again: {dropped:?}");
    Ok(())
}

#[test]
fn clip_grad_norm_defaults_to_the_2_norm_without_a_finiteness_check() -> Result<()> {
    let grads = [[3.0, 4.0], [f64::INFINITY, 0.0]];
    for g in grads {
        let (a, b) =
            (Tensor::<f64>::zeros(&[2]).requires_grad_(true)?, Tensor::<f64>::zeros(&[2]).requires_grad_(true)?);
        a.set_grad(Some(Tensor::new(g)))?;
        b.set_grad(Some(Tensor::new(g)))?;
        let by_default = clip_grad_norm_([&a], 1.0)?.item()?;
        let explicit = clip_grad_norm_with([&b], 1.0, ClipGradNorm { norm_type: 2.0, error_if_nonfinite: false })?;
        assert_eq!(by_default.to_bits(), explicit.item()?.to_bits());
        assert_eq!(format!("{:?}", a.grad().unwrap().to_vec()?), format!("{:?}", b.grad().unwrap().to_vec()?));
    }
    Ok(())
}

#[test]
fn the_two_moons_example_learns_and_reloads_exactly() -> Result<()> {
    let _turn = default_generator();
    let dir = tempfile::tempdir().unwrap();
    let report = two_moons::run(40, 40, &dir.path().join("two_moons.safetensors"))?;
    let last = *report.accuracies.last().unwrap();
    assert!(last >= 0.95, "two moons with noise 0.1 are separable by this MLP: val accuracy {last}");
    assert!(report.reloaded_identical);
    Ok(())
}
