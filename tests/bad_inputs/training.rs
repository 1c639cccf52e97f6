//! Training parts: learning rates and optimizer options, data loaders and datasets, layer and loss shapes.

use super::{assert_unchanged, message, param, snapshot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::data::{make_regression, train_test_split, DataLoader, MakeRegression, TensorDataset, TestSize};
use torchlet::metrics::{l2_distance, mape};
use torchlet::nn::functional::{binary_cross_entropy, mse_loss};
use torchlet::nn::{Dropout2d, Linear, Module, Reduction};
use torchlet::optim::{SgdConfig, SGD};
use torchlet::Tensor;
use torchlet_tutorials::regression::{AutodiffLinear, ManualLinear, Regressor, TensorLinear};

fn linear() -> Linear<f64> {
    Linear::with_rng(2, 1, true, &mut StdRng::seed_from_u64(0))
}

#[test]
fn nan_learning_rate() {
    let w = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&w]);
    let expected = "SGD: invalid learning rate: NaN (must be finite and >= 0)";
    assert_eq!(message(SGD::new([w.clone()], f64::NAN)), expected);
    assert_eq!(message(AutodiffLinear::new(linear(), f64::NAN)), expected);
    assert_eq!(message(TensorLinear::new(w.detach().unsqueeze(0).unwrap(), None, f64::NAN)), expected);
    assert_eq!(
        message(ManualLinear::from_parameters(w.detach(), None, f64::NAN)),
        "ManualLinear: invalid learning rate: NaN (must be finite and >= 0)"
    );
    assert_unchanged(&before, &[&w]);
}

#[test]
fn negative_or_infinite_learning_rate() {
    let w = param(&[1.0, 2.0], &[2]);
    let before = snapshot(&[&w]);
    assert_eq!(message(SGD::new([w.clone()], -0.1)), "SGD: invalid learning rate: -0.1 (must be finite and >= 0)");
    assert_eq!(
        message(SGD::new([w.clone()], f64::INFINITY)),
        "SGD: invalid learning rate: inf (must be finite and >= 0)"
    );
    assert_eq!(
        message(ManualLinear::from_parameters(w.detach(), None, -1e-3)),
        "ManualLinear: invalid learning rate: -0.001 (must be finite and >= 0)"
    );
    assert_unchanged(&before, &[&w]);
}

#[test]
fn sgd_options_out_of_range() {
    let w = param(&[1.0], &[1]);
    let err = |c: SgdConfig| message(SGD::with_config([w.clone()], c));
    assert_eq!(err(SgdConfig::new(0.1).momentum(-0.5)), "SGD: invalid momentum value: -0.5 (must be finite and >= 0)");
    assert_eq!(
        err(SgdConfig::new(0.1).weight_decay(-1.0)),
        "SGD: invalid weight_decay value: -1 (must be finite and >= 0)"
    );
    assert_eq!(err(SgdConfig::new(0.1).dampening(f64::NAN)), "SGD: invalid dampening value: NaN (must be finite)");
    assert_eq!(
        err(SgdConfig::new(0.1).nesterov(true)),
        "SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum 0, dampening 0)"
    );
}

#[test]
fn sgd_parameter_lists_it_cannot_optimize() {
    let w = param(&[1.0], &[1]);
    assert_eq!(message(SGD::<f64>::new([], 0.1)), "SGD: optimizer got an empty parameter list");
    assert_eq!(
        message(SGD::new([w.clone(), &w * 2.0], 0.1)),
        "SGD: can't optimize a non-leaf tensor (parameter 1, shape [1])"
    );
    assert_eq!(message(SGD::new([w.clone(), w.clone()], 0.1)), "SGD: parameter 1 is the same tensor as parameter 0");
}

fn dataset(n: usize) -> (Tensor<f64>, Tensor<f64>) {
    (Tensor::from_vec((0..2 * n).map(|i| i as f64).collect(), &[n, 2]).unwrap(), Tensor::zeros(&[n]))
}

#[test]
fn batch_size_zero() {
    let (x, y) = dataset(3);
    let before = snapshot(&[&x, &y]);
    let ds = TensorDataset::new(vec![x.clone(), y.clone()]).unwrap();
    assert_eq!(message(DataLoader::new(ds, 0)), "DataLoader: batch_size should be a positive integer, got 0");
    assert_unchanged(&before, &[&x, &y]);
}

#[test]
fn empty_dataset() {
    let (x, y) = dataset(0);
    let ds = TensorDataset::new(vec![x, y]).unwrap();
    assert_eq!(message(DataLoader::new(ds, 4)), "DataLoader: the dataset is empty (0 samples; shapes [[0, 2], [0]])");
    assert_eq!(message(TensorDataset::<f64>::new(vec![])), "TensorDataset: at least one tensor is required");
    assert_eq!(
        message(TensorDataset::new(vec![Tensor::<f64>::scalar(1.0)])),
        "TensorDataset: tensor 0 is 0-D (shape []) and has no first dimension"
    );
}

#[test]
fn datasets_of_unequal_lengths() {
    let (x, _) = dataset(4);
    let y = Tensor::<f64>::zeros(&[3]);
    let before = snapshot(&[&x, &y]);
    assert_eq!(
        message(TensorDataset::new(vec![x.clone(), y.clone()])),
        "TensorDataset: size mismatch between tensors: first dimensions differ in shapes [[4, 2], [3]]"
    );
    assert_eq!(
        message(train_test_split([&x, &y], 0.25, true, 0)),
        "train_test_split: size mismatch between tensors: first dimensions differ in shapes [[4, 2], [3]]"
    );
    assert_unchanged(&before, &[&x, &y]);
}

#[test]
fn loader_and_dataset_misuse() {
    let (x, y) = dataset(3);
    let ds = TensorDataset::new(vec![x.clone(), y.clone(), y]).unwrap();
    assert_eq!(message(ds.get(3)), "TensorDataset::get: index 3 is out of range for a dataset of 3 samples");
    let mut loader = DataLoader::new(ds, 2).unwrap();
    assert_eq!(
        message(loader.iter_pairs().map(|_| ())),
        "DataLoader::iter_pairs: (x, y) pairs need a dataset of exactly 2 tensors, this one has 3"
    );
    assert_eq!(loader.iter().count(), 2, "the loader still works after the refused call");
}

#[test]
fn split_sizes_out_of_range() {
    let y = Tensor::<f64>::zeros(&[10]);
    assert_eq!(
        message(train_test_split([&y], TestSize::Fraction(1.5), true, 0)),
        "train_test_split: test_size=1.5 should be a fraction in (0, 1) or a count in [1, n_samples - 1] \
         (n_samples = 10)"
    );
    let err = message(train_test_split([&y], TestSize::Count(10), true, 0));
    assert!(err.starts_with("train_test_split: test_size=10"), "{err}");
}

#[test]
fn make_regression_with_nothing_to_make() {
    let bad = MakeRegression { n_samples: 0, ..Default::default() };
    assert_eq!(message(make_regression::<f64>(&bad)), "make_regression: n_samples must be at least 1, got 0");
    let bad = MakeRegression { noise: f64::NAN, ..Default::default() };
    assert_eq!(message(make_regression::<f64>(&bad)), "make_regression: noise must be finite and >= 0, got NaN");
}

#[test]
fn linear_layer_shapes() {
    let model = linear();
    let params: Vec<Tensor<f64>> = model.parameters();
    let before = snapshot(&params.iter().collect::<Vec<_>>());
    assert_eq!(
        message(model.forward(&Tensor::zeros(&[4, 3]))),
        "Linear: input of shape [4, 3] has 3 features, but in_features is 2"
    );
    assert_eq!(
        message(model.forward(&Tensor::zeros(&[1, 4, 3]))),
        "Linear: input of shape [1, 4, 3] has 3 features, but in_features is 2"
    );
    assert_eq!(
        message(model.forward(&Tensor::scalar(0.0))),
        "Linear: expected an input of shape [*, in_features] with at least one dim, got shape []"
    );
    assert_eq!(
        message(model.set_weight(&Tensor::zeros(&[2, 1]))),
        "Linear::set_weight: weight of shape [2, 1] for a layer whose weight has shape [1, 2]"
    );
    assert_eq!(
        message(model.set_bias(&Tensor::zeros(&[2]))),
        "Linear: bias must have shape [1] (out_features), got [2]"
    );
    assert_eq!(
        message(Linear::from_parameters(&Tensor::<f64>::zeros(&[2]), None)),
        "Linear: weight must be 2-D [out_features, in_features], got shape [2]"
    );
    assert_unchanged(&before, &params.iter().collect::<Vec<_>>());
}

#[test]
fn dropout2d_of_an_input_without_channels_and_planes() {
    // torch warns on these ranks and says it will refuse them; torchlet refuses them now, in either mode.
    let x = param(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let before = snapshot(&[&x]);
    let mut drop = Dropout2d::with_seed(0.5, 0).unwrap();
    let expected = "Dropout2d: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape [2, 2]";
    assert_eq!(message(drop.forward(&x)), expected);
    Module::<f64>::eval(&mut drop);
    assert_eq!(message(drop.forward(&x)), expected);
    assert_eq!(
        message(drop.forward(&Tensor::<f64>::zeros(&[1, 1, 1, 1, 1]))),
        "Dropout2d: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape [1, 1, 1, 1, 1]"
    );
    assert_unchanged(&before, &[&x]);
}

#[test]
fn loss_and_metric_shapes() {
    let (a, b) = (param(&[1.0, 2.0], &[2, 1]), param(&[1.0, 2.0], &[2]));
    let before = snapshot(&[&a, &b]);
    let err = message(mse_loss(&a, &b, Reduction::Mean));
    assert!(err.starts_with("mse_loss: input shape [2, 1] and target shape [2]"), "{err}");
    assert_eq!(message(mape(&a, &b)), "mape: shapes [2, 1] and [2] must match");
    assert_eq!(message(l2_distance(&a, &b)), "l2_distance: shapes [2, 1] and [2] must match");
    assert_unchanged(&before, &[&a, &b]);
}

#[test]
fn binary_cross_entropy_of_values_outside_0_and_1() {
    // On the CPU the message names the first value out of range (the CUDA path names an extreme).
    let target = Tensor::<f64>::new([0.0, 1.0, 1.0, 0.0]);
    let expected =
        |v: &str| format!("binary_cross_entropy: all elements of input should be between 0 and 1, found {v}");
    for (input, bad) in [([0.5, 1.5, -0.5, 0.25], "1.5"), ([0.5, -0.0, f64::NAN, 2.0], "NaN")] {
        let x = param(&input, &[4]);
        assert_eq!(message(binary_cross_entropy(&x, &target, None, Reduction::Mean)), expected(bad));
    }
    assert!(binary_cross_entropy(&param(&[0.0, 1.0, 0.5, 0.25], &[4]), &target, None, Reduction::Mean).is_ok());
}

#[test]
fn a_training_step_on_a_target_of_the_wrong_shape() {
    let mut model = AutodiffLinear::new(linear(), 0.1).unwrap();
    let params = model.linear().parameters();
    let x = Tensor::<f64>::ones(&[4, 2]);
    // One step first, so the parameters hold gradients that a failed step must not clear.
    model.train_step(&x, &Tensor::ones(&[4, 1])).unwrap();
    let before = snapshot(&params.iter().collect::<Vec<_>>());
    assert_eq!(
        message(model.train_step(&x, &Tensor::ones(&[4, 2]))),
        "AutodiffLinear::train_step: prediction of shape [4, 1] and target of shape [4, 2] differ"
    );
    assert_unchanged(&before, &params.iter().collect::<Vec<_>>());
}
