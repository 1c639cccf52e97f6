//! T10 — lesson 5's CNN (four 3×3 convolutions with ReLU, two 2×2 max poolings, two linear layers; Adam at
//! lr 1e-3 for 10 epochs), trained from scratch with the convolutions as im2col + GEMM and every backward
//! written out, and with torchlet's `nn` layers in a `Sequential` + `optim::Adam`, side by side with libtorch
//! (replaying the same shuffled batches) when built with `--features tch`.
//!
//! By default on scikit-learn's 8×8 digits as one-channel images (T9's split: 1 497 train / 300 valid); with
//! `--mnist DIR` on MNIST's 28×28 images from the IDX files in DIR (`Linear(64·7·7, 128)`, 50 000 / 10 000).
//!
//! With `--device cuda` (or `cuda:N`; built with `--features cuda`) both torchlet models train on the GPU,
//! and libtorch, when built in, on the CPU from copies of the same data; without a usable GPU the example
//! stops at once, saying why.
//!
//! Run: `cargo run --release --example cnn_classifier [-- --mnist data/MNIST/raw] [--device cuda]`

mod common;

use common::classify::{digits_or_mnist, finish, ClassRun};
use common::{device_and_args, on_device};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use torchlet::Result;
use torchlet_tutorials::classification::{evaluate, fit, Classifier};
use torchlet_tutorials::cnn::{images, initial_parameters, AutodiffCnn, ManualCnn, BATCH, EPOCHS, LR, VALID_BATCH};
use torchlet_tutorials::{Layers, Split};

/// One seed for the split, the initial parameters and the shuffling (T9's).
const SEED: u64 = 7;

fn main() -> Result<()> {
    let (device, args) = device_and_args()?;
    let data = images::<f32>(&digits_or_mnist("cnn_classifier", &args, SEED)?)?.to(device)?;
    let side = data.x_train.shape()[2];
    println!(
        "train {:?}, valid {:?}, seed {SEED}; batches {BATCH} (shuffled) / {VALID_BATCH}; Adam lr {LR}, {EPOCHS} epochs",
        data.x_train.shape(),
        data.x_valid.shape()
    );

    let init = on_device(&initial_parameters::<f32, _>(side, &mut StdRng::seed_from_u64(SEED))?, device)?;

    println!("\nFrom scratch (im2col + GEMM, col2im, max-pool routing, softmax-CE and Adam by hand):");
    let mut runs = vec![train("scratch", &mut ManualCnn::new(&init, LR)?, &data)?];
    println!("\nWith torchlet's Sequential of Conv2d/ReLU/MaxPool2d/Flatten/Linear + cross_entropy + Adam (autograd):");
    runs.push(train("autograd", &mut AutodiffCnn::new(&init, LR)?, &data)?);
    #[cfg(feature = "tch")]
    {
        println!("\nlibtorch (tch) from the same parameters, replaying the same shuffled batches:");
        // libtorch's twin runs on the CPU: it gets CPU copies once, rather than a transfer every batch.
        let cpu = torchlet::Device::Cpu;
        let mut reference = torchlet_tutorials::libtorch::TchCnn::from_parameters(&on_device(&init, cpu)?, LR)?;
        runs.push(train("libtorch", &mut reference, &data.to(cpu)?)?);
    }
    finish("cnn_classifier", if side == 8 { "T10, CNN on digits" } else { "T10, CNN on MNIST" }, &runs, 1);
    Ok(())
}

/// `evaluate(model, val_loader)` before training, then `fit(10, 0.001, …, Adam)`, printed as the lesson
/// prints it. Every model gets loaders with the same seed, so the same batches.
fn train<M: Classifier<f32> + Layers<f32>>(name: &'static str, model: &mut M, data: &Split<f32>) -> Result<ClassRun> {
    let (mut train, mut valid) = data.loaders(BATCH, VALID_BATCH, Some(SEED))?;
    let (loss, accuracy) = evaluate(model, &mut valid)?;
    println!("{{'val_loss': {loss}, 'val_acc': {accuracy}}}");
    let start = Instant::now();
    let print = |e: usize, l: f64, lv: f64, a: f64| {
        println!("Epoch [{}], train_loss: {l:.4}, val_loss: {lv:.4}, val_acc: {a:.4}", e - 1)
    };
    let history = fit(model, &mut train, &mut valid, EPOCHS, print)?;
    println!("({name}: {EPOCHS} epochs in {:.1} s)", start.elapsed().as_secs_f64());
    ClassRun::new(name, history, model)
}
