//! T10b — lesson 6's residual network with BatchNorm (`conv_block`s of Conv2d, BatchNorm2d, ReLU and max
//! pooling; two residual stages; `MaxPool2d, Flatten, Linear` on top), trained with the lesson's
//! `fit_one_cycle(8, 0.01, grad_clip=0.1, weight_decay=1e-4, opt_func=Adam)`: from scratch with every forward
//! and backward written out (BatchNorm's three-term backward among them), and with torchlet's `nn` layers +
//! `optim::Adam` + `OneCycleLR` + `clip_grad_value_`, side by side with libtorch (replaying the same shuffled
//! batches) when built with `--features tch`.
//!
//! By default on scikit-learn's 8×8 digits as one-channel images (T9's split: 1 497 train / 300 valid): the
//! net's three 2×2 poolings bring 8×8 to the 1×1 its `Linear(128, 10)` takes. With `--mnist DIR` on
//! MNIST's 28×28 images from the IDX files in DIR (50 000 / 10 000): the poolings leave 3×3 (28 → 14 → 7 → 3,
//! torch's floor mode), so the linear layer is `Linear(128·3·3, 10)`.
//!
//! With `--device cuda` (or `cuda:N`; built with `--features cuda`) both torchlet models train on the GPU,
//! and libtorch, when built in, on the CPU from copies of the same data; without a usable GPU the example
//! stops at once, saying why.
//!
//! Run: `cargo run --release --example resnet_classifier [-- --mnist data/MNIST/raw] [--device cuda]`

mod common;

use common::classify::{digits_or_mnist, finish, ClassRun};
use common::{device_and_args, on_device, to_f64};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use torchlet::Result;
use torchlet_tutorials::cnn::images;
use torchlet_tutorials::resnet::{
    evaluate, fit_one_cycle, initial_parameters, AutodiffResNet, ManualResNet, OneCycleModel, BATCH, EPOCHS, GRAD_CLIP,
    MAX_LR, VALID_BATCH, WEIGHT_DECAY,
};
use torchlet_tutorials::Split;

/// One seed for the split, the initial parameters and the shuffling (T9's and T10's).
const SEED: u64 = 7;

fn main() -> Result<()> {
    let (device, args) = device_and_args()?;
    let data = images::<f32>(&digits_or_mnist("resnet_classifier", &args, SEED)?)?.to(device)?;
    let side = data.x_train.shape()[2];
    let steps = EPOCHS * data.loaders(BATCH, VALID_BATCH, Some(SEED))?.0.len();
    println!(
        "train {:?}, valid {:?}, seed {SEED}; batches {BATCH} (shuffled) / {VALID_BATCH}; fit_one_cycle({EPOCHS}, \
         {MAX_LR}, grad_clip={GRAD_CLIP}, weight_decay={WEIGHT_DECAY}, Adam): {steps} steps",
        data.x_train.shape(),
        data.x_valid.shape()
    );
    let init = on_device(&initial_parameters::<f32, _>(side, &mut StdRng::seed_from_u64(SEED)), device)?;

    println!("\nFrom scratch (im2col convolutions, BatchNorm's three-term backward, residual adds, clipping, Adam):");
    let mut runs = vec![train("scratch", &mut ManualResNet::new(&init, steps)?, &data)?];
    println!(
        "\nWith torchlet's nn layers (Conv2d, BatchNorm2d, ...) + Adam + OneCycleLR + clip_grad_value_ (autograd):"
    );
    runs.push(train("autograd", &mut AutodiffResNet::new(&init, steps)?, &data)?);
    #[cfg(feature = "tch")]
    {
        println!("\nlibtorch (tch) from the same parameters, replaying the same shuffled batches:");
        // libtorch's twin runs on the CPU: it gets CPU copies once, rather than a transfer every batch.
        let cpu = torchlet::Device::Cpu;
        let mut reference = torchlet_tutorials::libtorch::TchResNet::from_parameters(&on_device(&init, cpu)?, steps)?;
        runs.push(train("libtorch", &mut reference, &data.to(cpu)?)?);
    }
    let title = if side == 8 { "T10b, ResNet on digits" } else { "T10b, ResNet on MNIST" };
    finish("resnet_classifier", title, &runs, 1);
    Ok(())
}

/// `evaluate(model, valid_dl)` before training, then `fit_one_cycle`, printed as the lesson prints it. Every
/// model gets loaders with the same seed, so the same batches.
fn train<M: OneCycleModel<f32>>(name: &'static str, model: &mut M, data: &Split<f32>) -> Result<ClassRun> {
    let (mut train, mut valid) = data.loaders(BATCH, VALID_BATCH, Some(SEED))?;
    let (loss, accuracy) = evaluate(model, &mut valid)?;
    println!("{{'val_loss': {loss}, 'val_acc': {accuracy}}}");
    let start = Instant::now();
    let (history, _) = fit_one_cycle(model, &mut train, &mut valid, EPOCHS, |end| println!("{end}"))?;
    println!("({name}: {EPOCHS} epochs in {:.1} s)", start.elapsed().as_secs_f64());
    let params = model.state()?.iter().map(|(_, t)| to_f64(t)).collect::<Result<_>>()?;
    Ok(ClassRun { name, history, params })
}
