//! What the tutorial examples share: the epoch printout, the models' parameters in one layout, the
//! side-by-side summary of how far torchlet's two models and libtorch's are apart, and their loss curves
//! as a picture.
#![allow(dead_code)]

pub mod classify;
pub mod plot;

use plot::{Panel, Series};
use torchlet::data::DataLoader;
use torchlet::nn::Linear;
use torchlet::{Device, Element, Result, Tensor};
use torchlet_tutorials::regression::{fit, AutodiffLinear, History, ManualLinear};

/// The element types the examples train in: any of torchlet's, and one libtorch has too when it runs beside.
#[cfg(feature = "tch")]
pub trait ExampleElement: torchlet_tutorials::libtorch::TchElement {}
#[cfg(feature = "tch")]
impl<T: torchlet_tutorials::libtorch::TchElement> ExampleElement for T {}
/// The element types the examples train in: any of torchlet's, and one libtorch has too when it runs beside.
#[cfg(not(feature = "tch"))]
pub trait ExampleElement: Element {}
#[cfg(not(feature = "tch"))]
impl<T: Element> ExampleElement for T {}

/// Trains the scratch model and the autograd model (and, with `tch`, libtorch from `linear`'s parameters)
/// over fresh `loaders` each, printing every epoch with `print`; returns the runs for the comparison.
pub fn train_side_by_side<T: ExampleElement>(
    scratch: &mut ManualLinear<T>,
    torchish: &mut AutodiffLinear<T>,
    linear: &Linear<T>,
    (lr, epochs): (f64, usize),
    loaders: impl Fn() -> Result<(DataLoader<T>, DataLoader<T>)>,
    print: impl Fn(usize, f64, f64) + Copy,
) -> Result<Vec<Run>> {
    println!("\nFrom scratch (hand-derived gradients):");
    let (mut train, mut valid) = loaders()?;
    let history = fit(scratch, &mut train, &mut valid, epochs, print)?;
    let bias = scratch.bias().map(to_f64).transpose()?.unwrap_or_default();
    let mut runs = vec![Run { name: "scratch", history, weight: to_f64(&manual_weight_as_linear(scratch)?)?, bias }];

    println!("\nWith torchlet's nn.Linear + MSELoss + SGD (autograd):");
    let (mut train, mut valid) = loaders()?;
    let history = fit(torchish, &mut train, &mut valid, epochs, print)?;
    let bias = torchish.linear().bias().map(to_f64).transpose()?.unwrap_or_default();
    runs.push(Run { name: "autograd", history, weight: to_f64(torchish.linear().weight())?, bias });

    #[cfg(feature = "tch")]
    {
        println!("\nlibtorch (tch) from the same parameters and batches:");
        let mut reference = torchlet_tutorials::libtorch::TchLinear::from_linear(linear, lr)?;
        let (mut train, mut valid) = loaders()?;
        let history = fit(&mut reference, &mut train, &mut valid, epochs, print)?;
        let bias = reference.bias()?.as_ref().map(to_f64).transpose()?.unwrap_or_default();
        runs.push(Run { name: "libtorch", history, weight: to_f64(&reference.weight()?)?, bias });
    }
    #[cfg(not(feature = "tch"))]
    let _ = (linear, lr);
    Ok(runs)
}

/// One trained model's record, for the final comparison.
pub struct Run {
    pub name: &'static str,
    pub history: History,
    /// The weight in `nn.Linear`'s `[out, in]` layout, flattened.
    pub weight: Vec<f64>,
    pub bias: Vec<f64>,
}

pub fn to_f64<T: Element>(t: &Tensor<T>) -> Result<Vec<f64>> {
    Ok(t.to_vec()?.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect())
}

/// A scratch model's weight (`[1]`, `[f]`, `[f, t]` or `[f, 1]`) in `nn.Linear`'s `[out, in]` layout.
pub fn manual_weight_as_linear<T: Element>(model: &ManualLinear<T>) -> Result<Tensor<T>> {
    let w = model.weight();
    let outputs = if w.rank() == 2 { w.shape()[1] } else { 1 };
    w.reshape(&[w.numel() / outputs, outputs])?.t()?.contiguous()
}

/// Largest relative difference between matching entries, `|a - b| / max(|a|, |b|)` (0 where both are 0).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let scale = x.abs().max(y.abs());
            if scale == 0.0 {
                0.0
            } else {
                (x - y).abs() / scale
            }
        })
        .fold(0.0, f64::max)
}

/// Prints, for every pair of runs, the largest relative difference of the per-epoch losses and of the
/// final parameters.
pub fn print_summary(runs: &[Run]) {
    println!("\nLargest relative difference between each pair (losses per epoch, final parameters):");
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let train = max_rel_diff(&a.history.train, &b.history.train);
            let params = max_rel_diff(&[&a.weight[..], &a.bias[..]].concat(), &[&b.weight[..], &b.bias[..]].concat());
            let valid = if a.history.valid.is_empty() {
                String::new()
            } else {
                format!("   valid loss {:.2e}", max_rel_diff(&a.history.valid, &b.history.valid))
            };
            println!("  {:>8} vs {:<8} train loss {train:.2e}{valid}   parameters {params:.2e}", a.name, b.name);
        }
    }
}

/// The device named by `--device cpu|cuda|cuda:N` on the command line (the CPU when absent), and the other
/// arguments in order.
pub fn device_and_args() -> Result<(Device, Vec<String>)> {
    let mut device = Device::Cpu;
    let mut rest = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.strip_prefix("--device") {
            Some("") => device = args.next().unwrap_or_default().parse()?,
            Some(value) if value.starts_with('=') => device = value[1..].parse()?,
            _ => rest.push(arg),
        }
    }
    if device.is_cuda() {
        // Fail here, with the reason, rather than at the first op.
        Tensor::<f32>::full_on(&[1], 0.0, device)?;
    }
    println!("device: {device}");
    Ok((device, rest))
}

/// Copies of `tensors` on `device` (a model's initial parameters, made on the CPU).
pub fn on_device<T: Element>(tensors: &[Tensor<T>], device: Device) -> Result<Vec<Tensor<T>>> {
    tensors.iter().map(|t| t.to(device)).collect()
}

/// Gives libtorch (when it runs beside) one intra-op thread, for the examples whose tensors are all below its
/// parallel grain (T11's): there its threads only add wake-ups, which on a loaded machine cost many times the
/// work. The results do not depend on it.
pub fn single_threaded_libtorch() {
    #[cfg(feature = "tch")]
    tch::set_num_threads(1);
}

/// Says loudly, once, that libtorch is not part of this run.
pub fn note_without_libtorch() {
    if !cfg!(feature = "tch") {
        println!("\n(libtorch side by side: run with `--features tch` after scripts/setup-libtorch.sh)");
    }
}

/// The runs' training losses in one panel and, where they have them, their validation losses in another.
pub fn loss_panels(title: &str, runs: &[Run]) -> Vec<Panel> {
    let panel = |what: &str, pick: fn(&History) -> &Vec<f64>| Panel {
        title: format!("{title}: {what} loss"),
        x_label: "epoch",
        log_x: false,
        y_label: "loss (MSE)",
        log_y: true,
        series: runs.iter().map(|r| Series::per_epoch(r.name, pick(&r.history))).collect(),
    };
    let mut panels = vec![panel("training", |h| &h.train)];
    if runs.iter().any(|r| !r.history.valid.is_empty()) {
        panels.push(panel("validation", |h| &h.valid));
    }
    panels
}
