//! T4 — crop yields of apples and oranges from temperature, rainfall and humidity: first with raw
//! tensors and autograd (and the same model with hand-derived gradients), then with the built-ins
//! (TensorDataset, a shuffled DataLoader, nn.Linear, MSE loss, SGD), side by side with libtorch when built
//! with `--features tch`.
//!
//! Run: `cargo run --release --example crop_yields [-- --device cuda]`

mod common;

use common::plot::{self, Panel, Series};
use common::{device_and_args, manual_weight_as_linear, note_without_libtorch, print_summary, to_f64, Run};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::data::{DataLoader, TensorDataset};
use torchlet::nn::Linear;
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, History, ManualLinear, Regressor, TensorLinear};

const SEED: u64 = 42;
const LR: f64 = 1e-5;
const EPOCHS: usize = 100;

#[rustfmt::skip]
const INPUTS: [[f32; 3]; 15] = [
    [73., 67., 43.], [91., 88., 64.], [87., 134., 58.], [102., 43., 37.], [69., 96., 70.],
    [74., 66., 43.], [91., 87., 65.], [88., 134., 59.], [101., 44., 37.], [68., 96., 71.],
    [73., 66., 44.], [92., 87., 64.], [87., 135., 57.], [103., 43., 36.], [68., 97., 70.],
];
#[rustfmt::skip]
const TARGETS: [[f32; 2]; 15] = [
    [56., 70.], [81., 101.], [119., 133.], [22., 37.], [103., 119.],
    [57., 69.], [80., 102.], [118., 132.], [21., 38.], [104., 118.],
    [57., 69.], [82., 100.], [118., 134.], [20., 38.], [102., 120.],
];

fn main() -> Result<()> {
    let (device, _) = device_and_args()?;
    let inputs = Tensor::new(INPUTS).to(device)?;
    let targets = Tensor::new(TARGETS).to(device)?;
    let mut rng = StdRng::seed_from_u64(SEED);
    let part1_runs = part1(&inputs.narrow(0, 0, 5)?, &targets.narrow(0, 0, 5)?, &mut rng)?;
    let part2_runs = part2(&inputs, &targets, &mut rng)?;
    let panel = |title: &str, runs: &[Run]| Panel {
        title: title.to_string(),
        x_label: "epoch",
        log_x: false,
        y_label: "loss (MSE)",
        log_y: true,
        series: runs.iter().map(|r| Series::per_epoch(r.name, &r.history.train)).collect(),
    };
    plot::write_svg(
        "crop_yields",
        &[
            panel("T4 part 1: tensors + autograd, 5 regions", &part1_runs),
            panel("T4 part 2: nn.Linear + DataLoader, last batch", &part2_runs),
        ],
    );
    note_without_libtorch();
    Ok(())
}

/// Linear regression from scratch on the first five regions: `w`, `b` from randn, 100 epochs. Returns the
/// runs, for the picture.
fn part1(inputs: &Tensor<f32>, targets: &Tensor<f32>, rng: &mut StdRng) -> Result<Vec<Run>> {
    println!("Part 1: tensors and autograd, no nn ({} regions)", inputs.shape()[0]);
    let device = inputs.device();
    let (w, b) =
        (Tensor::<f32>::randn_with(&[2, 3], rng).to(device)?, Tensor::<f32>::randn_with(&[2], rng).to(device)?);
    println!("w = {w}\nb = {b}");
    let mut autograd = TensorLinear::new(w.clone(), Some(b.clone()), LR)?;
    let mut scratch = ManualLinear::from_parameters(w.t()?, Some(b.clone()), LR)?;
    println!("loss before training: {:.4}", autograd.evaluate(inputs, targets)?);
    let mut histories = [History::default(), History::default()];
    for _ in 0..EPOCHS {
        histories[0].train.push(autograd.train_step(inputs, targets)?.into());
        histories[1].train.push(scratch.train_step(inputs, targets)?.into());
    }
    println!("loss after {EPOCHS} epochs: {:.4}", autograd.evaluate(inputs, targets)?);
    println!("predictions:\n{}\ntargets:\n{targets}", autograd.predict(inputs)?);
    #[cfg_attr(not(feature = "tch"), allow(unused_mut))]
    let mut runs = vec![
        Run {
            name: "autograd",
            history: histories[0].clone(),
            weight: to_f64(autograd.weight())?,
            bias: to_f64(autograd.bias().expect("has a bias"))?,
        },
        Run {
            name: "scratch",
            history: histories[1].clone(),
            weight: to_f64(&manual_weight_as_linear(&scratch)?)?,
            bias: to_f64(scratch.bias().expect("has a bias"))?,
        },
    ];
    #[cfg(feature = "tch")]
    {
        let mut reference = torchlet_tutorials::libtorch::TchTensorLinear::new(&w, Some(&b), LR)?;
        let mut history = History::default();
        for _ in 0..EPOCHS {
            history.train.push(reference.train_step(inputs, targets)?.into());
        }
        let bias = reference.bias()?.expect("has a bias");
        runs.push(Run { name: "libtorch", history, weight: to_f64(&reference.weight()?)?, bias: to_f64(&bias)? });
    }
    print_summary(&runs);
    Ok(runs)
}

/// The same with the built-ins on all fifteen regions: shuffled batches of 5, `Linear(3, 2)`, SGD.
fn part2(inputs: &Tensor<f32>, targets: &Tensor<f32>, rng: &mut StdRng) -> Result<Vec<Run>> {
    println!("\nPart 2: TensorDataset, DataLoader(batch_size=5, shuffle=True), nn.Linear(3, 2), SGD(lr=1e-5)");
    // Every model gets its own loader with the same seed, so all see the same batches in the same order.
    let loader = || -> Result<DataLoader<f32>> {
        Ok(DataLoader::new(TensorDataset::new(vec![inputs.clone(), targets.clone()])?, 5)?.shuffle(true).seed(SEED))
    };
    let linear = Linear::<f32>::with_rng(3, 2, true, rng).to(inputs.device())?;
    let mut model = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    let mut scratch = ManualLinear::from_parameters(linear.weight().t()?, linear.bias().cloned(), LR)?;
    let mut history = fit_last_batch(&mut model, &mut loader()?, true)?;
    let scratch_history = fit_last_batch(&mut scratch, &mut loader()?, false)?;

    println!("predictions:\n{}\ntargets:\n{targets}", model.predict(inputs)?);
    let new_region = Tensor::new([[75.0f32, 63.0, 44.0]]).to(inputs.device())?;
    println!("yield for a new region (temp 75, rainfall 63, humidity 44): {}", model.predict(&new_region)?);

    history.valid.clear();
    #[cfg_attr(not(feature = "tch"), allow(unused_mut))]
    let mut runs = vec![
        Run {
            name: "autograd",
            history,
            weight: to_f64(model.linear().weight())?,
            bias: to_f64(model.linear().bias().expect("has a bias"))?,
        },
        Run {
            name: "scratch",
            history: scratch_history,
            weight: to_f64(&manual_weight_as_linear(&scratch)?)?,
            bias: to_f64(scratch.bias().expect("has a bias"))?,
        },
    ];
    #[cfg(feature = "tch")]
    {
        let mut reference = torchlet_tutorials::libtorch::TchLinear::from_linear(&linear, LR)?;
        let history = fit_last_batch(&mut reference, &mut loader()?, false)?;
        let bias = reference.bias()?.expect("has a bias");
        runs.push(Run { name: "libtorch", history, weight: to_f64(&reference.weight()?)?, bias: to_f64(&bias)? });
    }
    print_summary(&runs);
    Ok(runs)
}

/// The tutorial's `fit`: every epoch over the shuffled batches; each 10th epoch prints the last batch's
/// loss. Records that loss for every epoch.
fn fit_last_batch<M: Regressor<f32>>(model: &mut M, loader: &mut DataLoader<f32>, print: bool) -> Result<History> {
    let mut history = History::default();
    for epoch in 1..=EPOCHS {
        let mut last = f32::NAN;
        for batch in loader.iter_pairs()? {
            let (x, y) = batch?;
            last = model.train_step(&x, &y)?;
        }
        // The loss after the epoch's last step, as torch's loop prints `loss.item()` of that batch's
        // forward pass taken before its update.
        history.train.push(last.into());
        if print && epoch % 10 == 0 {
            println!("Epoch [{epoch}/{EPOCHS}], Loss: {last:.4}");
        }
    }
    Ok(history)
}
