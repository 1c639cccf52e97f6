//! T1 and T2, which differ only in the number of features: 10 100 samples from `make_regression`, the
//! first 100 for training in batches of 33, the other 10 000 for validation; 16 epochs at LR 0.01, f64.

use super::common::{
    device_and_args, loss_panels, manual_weight_as_linear, note_without_libtorch, plot, print_summary,
    train_side_by_side,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::data::{make_regression, DataLoader, MakeRegression, TensorDataset};
use torchlet::metrics::mape;
use torchlet::nn::Linear;
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, ManualLinear, Regressor};

const LR: f64 = 0.01;
const EPOCHS: usize = 16;
const N_TRAIN: usize = 100;
const SEED: u64 = 2024;

pub fn run(n_features: usize) -> Result<()> {
    let (device, _) = device_and_args()?;
    let mut rng = StdRng::seed_from_u64(SEED);
    let config = MakeRegression {
        n_samples: 10_100,
        n_features,
        n_informative: if n_features == 1 { 1 } else { 3 },
        n_targets: 1,
        bias: rng.random_range(0.0..1.0),
        noise: 1.0,
        seed: SEED,
        ..Default::default()
    };
    let data = make_regression::<f64>(&config)?;
    // T1 works with a 1-D x, as the tutorial squeezes it.
    let x = if n_features == 1 { data.x.squeeze()? } else { data.x }.to(device)?;
    let y = data.y.to(device)?;
    let (x_train, x_valid) = (x.narrow(0, 0, N_TRAIN)?, x.narrow(0, N_TRAIN, x.shape()[0] - N_TRAIN)?);
    let (y_train, y_valid) = (y.narrow(0, 0, N_TRAIN)?, y.narrow(0, N_TRAIN, y.shape()[0] - N_TRAIN)?);
    println!("data: x {:?}, y {:?}, bias {:.4}, coef {}", x.shape(), y.shape(), config.bias, data.coef);
    println!("train {} samples, valid {} samples", y_train.numel(), y_valid.numel());

    let loaders = || -> Result<(DataLoader<f64>, DataLoader<f64>)> {
        let train = DataLoader::new(TensorDataset::new(vec![x_train.clone(), y_train.clone()])?, N_TRAIN / 3)?;
        let valid = DataLoader::new(TensorDataset::new(vec![x_valid.clone(), y_valid.clone()])?, y_valid.numel())?;
        Ok((train, valid))
    };

    let linear = Linear::<f64>::with_rng(n_features, 1, true, &mut rng).to(device)?;
    let mut scratch = if n_features == 1 {
        ManualLinear::simple(LR, &mut rng)?
    } else {
        ManualLinear::multivariate(n_features, LR, &mut rng)?
    }
    .to(device)?;
    let mut torchish = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    compare("before copying the parameters", &scratch, &torchish, &x_valid)?;
    scratch.copy_from_linear(&linear)?;
    compare("after copying the parameters", &scratch, &torchish, &x_valid)?;

    let print = |epoch: usize, train: f64, valid: f64| println!("epoch: {epoch} - MSE: {train:.4} - MSE_v: {valid:.4}");
    let runs = train_side_by_side(&mut scratch, &mut torchish, &linear, (LR, EPOCHS), loaders, print)?;
    compare("after training", &scratch, &torchish, &x_valid)?;
    print_summary(&runs);
    let (name, title) = match n_features {
        1 => ("simple_linear_regression", "T1, one feature"),
        _ => ("multivariate_linear_regression", "T2, several features"),
    };
    plot::write_svg(name, &loss_panels(title, &runs));
    note_without_libtorch();
    Ok(())
}

/// The tutorial's check that both models agree: modified MAPE between predictions, biases and weights.
fn compare(when: &str, scratch: &ManualLinear<f64>, torchish: &AutodiffLinear<f64>, x: &Tensor<f64>) -> Result<()> {
    let preds = mape(&scratch.predict(x)?, &torchish.predict(x)?.reshape(&[x.shape()[0]])?)?;
    let bias = mape(scratch.bias().expect("has a bias"), torchish.linear().bias().expect("has a bias"))?;
    let weight = mape(&manual_weight_as_linear(scratch)?, torchish.linear().weight())?;
    println!("MAPE {when}: predictions {preds:.3e} %, bias {bias:.3e} %, weight {weight:.3e} %");
    Ok(())
}
