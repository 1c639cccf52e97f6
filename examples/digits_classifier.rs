//! T9 — a feed-forward digit classifier (`in → 32 ReLU → 10`, cross-entropy, SGD) as Jovian's lesson 4 trains
//! it: `history = [evaluate()]`, `fit(5, 0.5)`, `fit(5, 0.1)`. From scratch with backprop written out and with
//! torchlet's Linear + cross_entropy + SGD, side by side with libtorch (replaying the same shuffled batches)
//! when built with `--features tch`.
//!
//! By default on scikit-learn's 8×8 digits, compiled into the crate (1 497 train / 300 valid); with
//! `--mnist DIR` on MNIST's IDX files in DIR (`784 → 32 → 10`, 50 000 / 10 000 of the training set).
//!
//! Run: `cargo run --release --example digits_classifier [-- --mnist data/MNIST/raw] [--device cuda]`

mod common;

use common::classify::{digits_or_mnist, finish, ClassRun};
use common::device_and_args;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::Linear;
use torchlet::Result;
use torchlet_tutorials::classification::{evaluate, fit_schedule, Classifier, History};
use torchlet_tutorials::digits::{
    feed_forward_linears, AutodiffFeedForward, ManualFeedForward, BATCH, SCHEDULE, VALID_BATCH,
};
use torchlet_tutorials::{Layers, Split};

/// One seed for the split, the initial parameters and the shuffling.
const SEED: u64 = 7;

fn main() -> Result<()> {
    let (device, args) = device_and_args()?;
    let data = digits_or_mnist("digits_classifier", &args, SEED)?.to(device)?;
    let inputs = data.x_train.shape()[1];
    println!(
        "train {:?}, valid {:?}, seed {SEED}; batches {BATCH} (shuffled) / {VALID_BATCH}",
        data.x_train.shape(),
        data.x_valid.shape()
    );
    println!("schedule: fit(epochs, lr) for (epochs, lr) in {SCHEDULE:?}, each with a fresh SGD");

    let [hidden, output] = feed_forward_linears::<f32, _>(inputs, &mut StdRng::seed_from_u64(SEED));
    let (hidden, output) = (hidden.to(device)?, output.to(device)?);
    let copy = |l: &Linear<f32>| Linear::from_parameters(l.weight(), l.bias());

    println!("\nFrom scratch (D2 = (softmax(Z2) - onehot(y))/B, D1 = (D2 W2) * [Z1 > 0]):");
    let mut scratch = ManualFeedForward::new(&hidden, &output, SCHEDULE[0].1)?;
    let mut runs = vec![train("scratch", &mut scratch, &data)?];
    println!("\nWith torchlet's Linear + relu + cross_entropy + SGD (autograd):");
    let mut torchish = AutodiffFeedForward::new(copy(&hidden)?, copy(&output)?, SCHEDULE[0].1)?;
    runs.push(train("autograd", &mut torchish, &data)?);
    #[cfg(feature = "tch")]
    {
        use torchlet_tutorials::libtorch::{TchLoss, TchNet};
        use torchlet_tutorials::Activation;
        println!("\nlibtorch (tch) from the same parameters, replaying the same shuffled batches:");
        let activations = [Activation::ReLU, Activation::Identity];
        let mut reference =
            TchNet::from_linears(&[&hidden, &output], &activations, TchLoss::CrossEntropy, SCHEDULE[0].1)?;
        runs.push(train("libtorch", &mut reference, &data)?);
    }
    finish("digits_classifier", if inputs == 64 { "T9, digits" } else { "T9, MNIST" }, &runs, 0);
    Ok(())
}

/// `history = [evaluate(model, val_loader)]`, then the schedule's fits, printed as the lesson prints them
/// (the epoch restarts at 0 in every fit). Every model gets loaders with the same seed, so the same batches.
fn train<M: Classifier<f32> + Layers<f32>>(name: &'static str, model: &mut M, data: &Split<f32>) -> Result<ClassRun> {
    let (mut train, mut valid) = data.loaders(BATCH, VALID_BATCH, Some(SEED))?;
    let (loss, accuracy) = evaluate(model, &mut valid)?;
    println!("{{'val_loss': {loss}, 'val_acc': {accuracy}}}");
    let print = |e: usize, _: f64, lv: f64, a: f64| println!("Epoch [{}], val_loss: {lv:.4}, val_acc: {a:.4}", e - 1);
    let fits = fit_schedule(model, &mut train, &mut valid, &SCHEDULE, print)?;
    let mut history = History { train: Vec::new(), valid: vec![loss], accuracy: vec![accuracy] };
    history.extend(&fits);
    ClassRun::new(name, history, model)
}
