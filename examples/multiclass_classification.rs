//! T7 — multiclass classification (softmax + cross-entropy on one-hot targets), from scratch with the
//! softmax Jacobian written out and with torchlet's nn/optim, side by side with libtorch when built with
//! `--features tch`.
//!
//! Run: `cargo run --release --example multiclass_classification [-- --device cuda]`

mod common;

use common::classify::{class_panels, print_class_summary, print_mape, round4, train_run};
use common::{device_and_args, note_without_libtorch, plot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::Linear;
use torchlet::Result;
use torchlet_tutorials::classification::{
    multiclass_data, AutodiffSoftmax, Classifier, ManualSoftmax, BATCH, EPOCHS, LR,
};

const SEED: u64 = 2024;

fn main() -> Result<()> {
    let (device, _) = device_and_args()?;
    let data = multiclass_data(SEED)?.to(device)?;
    println!(
        "data: make_classification(n_samples=10_100, n_features=5, n_classes=3, n_informative=4, n_redundant=0), \
         seed {SEED}; one-hot targets"
    );
    println!(
        "train {:?}, valid {:?}; LR {LR}, {EPOCHS} epochs, batch {BATCH}",
        data.x_train.shape(),
        data.x_valid.shape()
    );

    let mut rng = StdRng::seed_from_u64(SEED);
    let linear = Linear::<f64>::with_rng(5, 3, true, &mut rng).to(device)?;
    let mut scratch = ManualSoftmax::random(5, 3, LR, &mut rng)?.to(device)?;
    let mut torchish = AutodiffSoftmax::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    let compare = |when: &str, scratch: &ManualSoftmax<f64>, torchish: &AutodiffSoftmax<f64>| -> Result<()> {
        let predictions = (&scratch.predict(&data.x_valid)?, &torchish.predict(&data.x_valid)?);
        print_mape(when, predictions, scratch, torchish)
    };
    compare("before copying the parameters", &scratch, &torchish)?;
    scratch.copy_from_linear(&linear)?;
    compare("after copying the parameters", &scratch, &torchish)?;

    let loaders = || data.loaders(BATCH, data.y_valid.shape()[0], None);
    let schedule = [(EPOCHS, LR)];
    let print = |e: usize, l: f64, lv: f64, a: f64| {
        println!("epoch: {} - CE: {} - CE_v: {} - acc_v: {}", e - 1, round4(l), round4(lv), round4(a))
    };
    println!("\nFrom scratch (D = -(Y/A)/m, then D = A * (D - rowsum(D * A))):");
    let mut runs = vec![train_run("scratch", &mut scratch, loaders()?, &schedule, print)?];
    println!("\nWith torchlet's Linear + CrossEntropyLoss on the logits + SGD (autograd):");
    runs.push(train_run("autograd", &mut torchish, loaders()?, &schedule, print)?);
    #[cfg(feature = "tch")]
    {
        use torchlet_tutorials::libtorch::{TchLoss, TchNet};
        use torchlet_tutorials::Activation;
        println!("\nlibtorch (tch) from the same parameters and batches:");
        let mut reference =
            TchNet::from_linears(&[&linear], &[Activation::Identity], TchLoss::SoftTargetCrossEntropy, LR)?;
        runs.push(train_run("libtorch", &mut reference, loaders()?, &schedule, print)?);
    }
    compare("after training", &scratch, &torchish)?;
    print_class_summary(&runs);
    plot::write_svg("multiclass_classification", &class_panels("T7, multiclass", "loss (CE)", &runs, 1));
    note_without_libtorch();
    Ok(())
}
