//! T3 — multi-output linear regression (a dense layer, five features to three targets) in f32, from
//! scratch and with torchlet's nn/optim, side by side with libtorch when built with `--features tch`.
//!
//! Run: `cargo run --release --example multioutput_linear_regression [-- --device cuda]`

mod common;

use common::{
    device_and_args, loss_panels, manual_weight_as_linear, note_without_libtorch, plot, print_summary,
    train_side_by_side,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::data::{make_regression, train_test_split, DataLoader, MakeRegression, TensorDataset};
use torchlet::metrics::l2_distance;
use torchlet::nn::Linear;
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, ManualLinear, Regressor};

const LR: f64 = 0.01;
const EPOCHS: usize = 16;
const BATCH: usize = 32;
const SEED: u64 = 2024;

fn main() -> Result<()> {
    let (device, _) = device_and_args()?;
    let mut rng = StdRng::seed_from_u64(SEED);
    let config = MakeRegression {
        n_samples: 1_500,
        n_features: 5,
        n_informative: 5,
        n_targets: 3,
        bias: rng.random_range(0.0..1.0),
        noise: 1.0,
        seed: SEED,
        ..Default::default()
    };
    let data = make_regression::<f32>(&config)?;
    let (x, y) = (data.x.to(device)?, data.y.to(device)?);
    let [(x_train, x_valid), (y_train, y_valid)] = train_test_split([&x, &y], 0.2, true, SEED)?;
    println!(
        "train x {:?} y {:?}, valid x {:?} y {:?}",
        x_train.shape(),
        y_train.shape(),
        x_valid.shape(),
        y_valid.shape()
    );
    let loaders = || -> Result<(DataLoader<f32>, DataLoader<f32>)> {
        let train = DataLoader::new(TensorDataset::new(vec![x_train.clone(), y_train.clone()])?, BATCH)?;
        let valid = DataLoader::new(TensorDataset::new(vec![x_valid.clone(), y_valid.clone()])?, BATCH)?;
        Ok((train, valid))
    };

    let linear = Linear::<f32>::with_rng(5, 3, true, &mut rng).to(device)?;
    let mut scratch = ManualLinear::multi_output(5, 3, LR, &mut rng)?.to(device)?;
    let mut torchish = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    compare("before copying the parameters", &scratch, &torchish, &x_valid)?;
    scratch.copy_from_linear(&linear)?;
    compare("after copying the parameters", &scratch, &torchish, &x_valid)?;

    let print = |epoch: usize, train: f64, valid: f64| println!("epoch: {epoch} - MSE: {train:.4} - vMSE: {valid:.4}");
    let runs = train_side_by_side(&mut scratch, &mut torchish, &linear, (LR, EPOCHS), loaders, print)?;
    compare("after training", &scratch, &torchish, &x_valid)?;
    print_summary(&runs);
    plot::write_svg("multioutput_linear_regression", &loss_panels("T3, five features to three targets", &runs));
    note_without_libtorch();
    Ok(())
}

/// The tutorial's check that both models agree: L2 distance between predictions, biases and weights.
fn compare(when: &str, scratch: &ManualLinear<f32>, torchish: &AutodiffLinear<f32>, x: &Tensor<f32>) -> Result<()> {
    let preds = l2_distance(&scratch.predict(x)?, &torchish.predict(x)?)?;
    let bias = l2_distance(scratch.bias().expect("has a bias"), torchish.linear().bias().expect("has a bias"))?;
    let weight = l2_distance(&manual_weight_as_linear(scratch)?, torchish.linear().weight())?;
    println!("L2 distance {when}: predictions {preds:.3e}, bias {bias:.3e}, weight {weight:.3e}");
    Ok(())
}
