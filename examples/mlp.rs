//! T8 — a multilayer perceptron (`Linear(6,32) Tanh → Linear(32,32) Softmax → Linear(32,32) Sigmoid →
//! Linear(32,32) ReLU → Linear(32,3)`) on a three-target regression, from scratch with backprop written out
//! layer by layer and with torchlet's ModuleList + MSELoss + SGD, side by side with libtorch when built with
//! `--features tch`.
//!
//! Run: `cargo run --release --example mlp [-- --device cuda]`

mod common;

use common::classify::print_mape;
use common::{device_and_args, loss_panels, note_without_libtorch, plot, print_summary, Run};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::Linear;
use torchlet::Result;
use torchlet_tutorials::mlp::{mlp_data, mlp_linears, AutodiffMlp, ManualMlp, BATCH, EPOCHS, LAYERS, LR};
use torchlet_tutorials::regression::{fit, Regressor};
use torchlet_tutorials::{Activation, Layers, Split};

const SEED: u64 = 2024;

fn main() -> Result<()> {
    let (device, _) = device_and_args()?;
    let data = mlp_data(SEED)?.to(device)?;
    println!(
        "data: make_regression(n_samples=10_100, n_features=6, n_targets=3, n_informative=5, noise=1), seed {SEED}"
    );
    println!(
        "train {:?}, valid {:?}; LR {LR}, {EPOCHS} epochs, batch {BATCH}",
        data.x_train.shape(),
        data.x_valid.shape()
    );
    let variance = no_model_mse(&data.y_train)?;
    println!("MSE of predicting the training targets' mean: {variance:.4}");

    let activations: Vec<Activation> = LAYERS.iter().map(|l| l.2).collect();
    let linears: Vec<Linear<f64>> =
        mlp_linears(&mut StdRng::seed_from_u64(SEED)).iter().map(|l| l.to(device)).collect::<Result<_>>()?;
    let copies = linears.iter().map(|l| Linear::from_parameters(l.weight(), l.bias())).collect::<Result<Vec<_>>>()?;
    let refs: Vec<&Linear<f64>> = linears.iter().collect();
    let mut scratch = ManualMlp::new(&refs, &activations, LR)?;
    let mut torchish = AutodiffMlp::new(copies, &activations, LR)?;

    println!("\nFrom scratch (backprop written out layer by layer):");
    let mut runs = vec![train("scratch", &mut scratch, &data)?];
    println!("\nWith torchlet's ModuleList + MSELoss + SGD (autograd):");
    runs.push(train("autograd", &mut torchish, &data)?);
    #[cfg(feature = "tch")]
    {
        use torchlet_tutorials::libtorch::{TchLoss, TchNet};
        println!("\nlibtorch (tch) from the same parameters and batches:");
        let mut reference = TchNet::from_linears(&refs, &activations, TchLoss::Mse, LR)?;
        runs.push(train("libtorch", &mut reference, &data)?);
    }
    let predictions = (&scratch.predict(&data.x_valid)?, &torchish.predict(&data.x_valid)?);
    print_mape("after training", predictions, &scratch, &torchish)?;
    print_summary(&runs);
    plot::write_svg("mlp", &loss_panels("T8, MLP", &runs));
    note_without_libtorch();
    Ok(())
}

/// Trains `model` for the tutorial's epochs on batches of 333 in order, printing each epoch as the notebook.
fn train<M: Regressor<f64> + Layers<f64>>(name: &'static str, model: &mut M, data: &Split<f64>) -> Result<Run> {
    let (mut train, mut valid) = data.loaders(BATCH, data.y_valid.shape()[0], None)?;
    let print = |e: usize, l: f64, lv: f64| println!("Epoch: {} - L: {l:.4} - L_v {lv:.4}", e - 1);
    let history = fit(model, &mut train, &mut valid, EPOCHS, print)?;
    let (weight, bias) = split_parameters(&model.linears()?)?;
    Ok(Run { name, history, weight, bias })
}

/// Every layer's weights, then every layer's biases, flattened.
fn split_parameters(layers: &[Linear<f64>]) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut weights, mut biases) = (Vec::new(), Vec::new());
    for layer in layers {
        weights.extend(common::to_f64(layer.weight())?);
        biases.extend(layer.bias().map(common::to_f64).transpose()?.unwrap_or_default());
    }
    Ok((weights, biases))
}

/// The MSE of the constant prediction that is each target's mean: the per-column variance, averaged.
fn no_model_mse(y: &torchlet::Tensor<f64>) -> Result<f64> {
    let centred = y.sub(&y.mean_dim(0, true)?)?;
    centred.square()?.mean()?.item()
}
