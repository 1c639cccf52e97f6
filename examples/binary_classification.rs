//! T6 — binary classification (sigmoid + BCE), from scratch and with torchlet's nn/optim, side by side with
//! libtorch when built with `--features tch`.
//!
//! Run: `cargo run --release --example binary_classification [-- --device cuda]`

mod common;

use common::classify::{class_panels, print_class_summary, print_mape, round4, train_run};
use common::{device_and_args, note_without_libtorch, plot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::Linear;
use torchlet::Result;
use torchlet_tutorials::classification::{
    binary_data, AutodiffLogistic, Classifier, ManualLogistic, BATCH, EPOCHS, LR,
};

const SEED: u64 = 2024;

fn main() -> Result<()> {
    let (device, _) = device_and_args()?;
    let data = binary_data(SEED)?.to(device)?;
    println!("data: make_classification(n_samples=10_100, n_features=6, n_informative=5, n_redundant=0), seed {SEED}");
    println!(
        "train {:?}, valid {:?}; LR {LR}, {EPOCHS} epochs, batch {BATCH}",
        data.x_train.shape(),
        data.x_valid.shape()
    );

    let mut rng = StdRng::seed_from_u64(SEED);
    let linear = Linear::<f64>::with_rng(6, 1, true, &mut rng).to(device)?;
    let mut scratch = ManualLogistic::random(6, LR, &mut rng)?.to(device)?;
    let mut torchish = AutodiffLogistic::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    let compare = |when: &str, scratch: &ManualLogistic<f64>, torchish: &AutodiffLogistic<f64>| -> Result<()> {
        let predictions = (&scratch.predict(&data.x_valid)?, &torchish.predict(&data.x_valid)?);
        print_mape(when, predictions, scratch, torchish)
    };
    compare("before copying the parameters", &scratch, &torchish)?;
    scratch.copy_from_linear(&linear)?;
    compare("after copying the parameters", &scratch, &torchish)?;

    let loaders = || data.loaders(BATCH, data.y_valid.shape()[0], None);
    let schedule = [(EPOCHS, LR)];
    let with_acc = |e: usize, l: f64, lv: f64, a: f64| {
        println!("epoch: {} - BCE: {} - BCE_v: {} - Acc_v: {}", e - 1, round4(l), round4(lv), round4(a))
    };
    let without_acc =
        |e: usize, l: f64, lv: f64, _: f64| println!("epoch: {} - BCE: {} - BCE_v: {}", e - 1, round4(l), round4(lv));
    println!("\nFrom scratch (dBCE/dz = (a - y)/m):");
    let mut runs = vec![train_run("scratch", &mut scratch, loaders()?, &schedule, with_acc)?];
    println!("\nWith torchlet's Linear -> Sigmoid -> BCELoss + SGD (autograd):");
    runs.push(train_run("autograd", &mut torchish, loaders()?, &schedule, without_acc)?);
    #[cfg(feature = "tch")]
    {
        use torchlet_tutorials::libtorch::{TchLoss, TchNet};
        use torchlet_tutorials::Activation;
        println!("\nlibtorch (tch) from the same parameters and batches:");
        let mut reference = TchNet::from_linears(&[&linear], &[Activation::Sigmoid], TchLoss::BinaryCrossEntropy, LR)?;
        runs.push(train_run("libtorch", &mut reference, loaders()?, &schedule, with_acc)?);
    }
    compare("after training", &scratch, &torchish)?;
    print_class_summary(&runs);
    plot::write_svg("binary_classification", &class_panels("T6, binary", "loss (BCE)", &runs, 1));
    note_without_libtorch();
    Ok(())
}
