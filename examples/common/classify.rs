//! What the T6–T10b examples share: the digits-or-MNIST choice of the image classifiers, Python's
//! `round(x, 4)` printout, the MAPE comparison of two models layer by layer, the side-by-side summary of the
//! runs, and their loss and accuracy curves.
#![allow(dead_code)]

use super::max_rel_diff;
use super::plot::{Panel, Series};
use torchlet::data::DataLoader;
use torchlet::metrics::mape;
use torchlet::{Element, Error, Result, Tensor};
use torchlet_tutorials::classification::{fit_schedule, Classifier, History};
use torchlet_tutorials::digits::{digits_data, mnist_data};
use torchlet_tutorials::{Layers, Split};

/// The data set an image classifier trains on, from its arguments after `--device` (see
/// [`super::device_and_args`]): none for scikit-learn's 8×8 digits, `--mnist DIR` for MNIST's training set
/// from the IDX files in DIR; either split by `seed` into training and validation rows, as T9 splits them.
pub fn digits_or_mnist(example: &'static str, args: &[String], seed: u64) -> Result<Split<f32>> {
    match args {
        [] => digits_data(seed),
        [flag, dir] if flag == "--mnist" => mnist_data(dir, seed),
        _ => {
            let msg = format!("unknown arguments {args:?}; the options are --mnist DIR and --device cpu|cuda[:N]");
            Err(Error::InvalidArgument { op: example, msg })
        }
    }
}

/// The end of a classifier example: the summary of how far the runs are apart, their curves in
/// `<example>.svg` under `title`, and the note when libtorch is not among them.
pub fn finish(example: &str, title: &str, runs: &[ClassRun], first_epoch: usize) {
    print_class_summary(runs);
    super::plot::write_svg(example, &class_panels(title, "loss (CE)", runs, first_epoch));
    super::note_without_libtorch();
}

/// Python's `round(x, 4)` as `print` shows it: the shortest repr of the rounded value, so `0.482` and `1.0`.
pub fn round4(x: f64) -> String {
    let r = (x * 1e4).round() / 1e4;
    let s = format!("{r}");
    if s.contains(['.', 'e', 'N', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// One trained model's record, for the final comparison.
pub struct ClassRun {
    pub name: &'static str,
    pub history: History,
    /// Every layer's weight (`[out, in]`, flattened) then bias, layer by layer.
    pub params: Vec<Vec<f64>>,
}

impl ClassRun {
    pub fn new<T: Element>(name: &'static str, history: History, model: &impl Layers<T>) -> Result<Self> {
        let mut params = Vec::new();
        for layer in model.linears()? {
            params.push(super::to_f64(layer.weight())?);
            params.extend(layer.bias().map(super::to_f64).transpose()?);
        }
        Ok(ClassRun { name, history, params })
    }
}

/// Largest `|a - b|` over each tensor relative to that tensor's largest `|b|`: parameters near 0 in a tensor of
/// larger ones (weights of blank pixels, say) would otherwise count their rounding relative to themselves.
fn rel_to_scale(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let gap = |x: &Vec<f64>, y: &Vec<f64>| {
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        x.iter().zip(y).map(|(p, q)| if scale == 0.0 { 0.0 } else { (p - q).abs() / scale }).fold(0.0, f64::max)
    };
    a.iter().zip(b).map(|(x, y)| gap(x, y)).fold(0.0, f64::max)
}

/// Trains `model` through `schedule` (`(epochs, lr)` per fit) on `loaders`, printing each epoch with `print`.
pub fn train_run<T: Element, M: Classifier<T> + Layers<T>>(
    name: &'static str,
    model: &mut M,
    (mut train, mut valid): (DataLoader<T>, DataLoader<T>),
    schedule: &[(usize, f64)],
    print: impl FnMut(usize, f64, f64, f64),
) -> Result<ClassRun> {
    let history = fit_schedule(model, &mut train, &mut valid, schedule, print)?;
    ClassRun::new(name, history, model)
}

/// The tutorials' check that two models agree: the modified MAPE (percent) of the predictions, then of each
/// layer's bias and weight, the second model's values taken as the true ones.
pub fn print_mape<T: Element>(
    when: &str,
    predictions: (&Tensor<T>, &Tensor<T>),
    ours: &impl Layers<T>,
    theirs: &impl Layers<T>,
) -> Result<()> {
    let pct = |a: &Tensor<T>, b: &Tensor<T>| -> Result<f64> { Ok(mape(a, b)?.to_f64().unwrap_or(f64::NAN)) };
    let mut line = format!("MAPE {when}: predictions {:.3e} %", pct(predictions.0, predictions.1)?);
    let (ours, theirs) = (ours.linears()?, theirs.linears()?);
    let several = ours.len() > 1;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let layer = if several { format!(" {i}") } else { String::new() };
        if let (Some(ab), Some(bb)) = (a.bias(), b.bias()) {
            line += &format!(", bias{layer} {:.3e} %", pct(ab, bb)?);
        }
        line += &format!(", weight{layer} {:.3e} %", pct(a.weight(), b.weight())?);
    }
    println!("{line}");
    Ok(())
}

/// Prints, for every pair of runs, the largest relative difference of the per-epoch losses and of the final
/// parameters (relative to each tensor's largest entry), and the largest difference of the per-epoch accuracies.
pub fn print_class_summary(runs: &[ClassRun]) {
    println!(
        "\nLargest difference between each pair (relative for losses, relative to each tensor's largest entry for \
         parameters, absolute for accuracy):"
    );
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let (ha, hb) = (&a.history, &b.history);
            let train = max_rel_diff(&ha.train, &hb.train);
            let valid = max_rel_diff(&ha.valid, &hb.valid);
            let acc = ha.accuracy.iter().zip(&hb.accuracy).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            let params = rel_to_scale(&a.params, &b.params);
            println!(
                "  {:>8} vs {:<8} train loss {train:.2e}   valid loss {valid:.2e}   accuracy {acc:.2e}   parameters {params:.2e}",
                a.name, b.name
            );
        }
    }
}

/// Three panels: training loss, validation loss (log scale) and validation accuracy (linear), per epoch.
/// `first_epoch` is the x of the first entry of the validation curves (0 when they start with the
/// evaluation before training).
pub fn class_panels(title: &str, loss: &'static str, runs: &[ClassRun], first_epoch: usize) -> Vec<Panel> {
    let shifted = |values: &[f64], from: usize| Series {
        label: String::new(),
        points: values.iter().enumerate().map(|(i, &v)| ((i + from) as f64, v)).collect(),
    };
    let panel = |what: &str, y_label: &'static str, log_y: bool, pick: &dyn Fn(&History) -> Series| Panel {
        title: format!("{title}: {what}"),
        x_label: "epoch",
        log_x: false,
        y_label,
        log_y,
        series: runs.iter().map(|r| Series { label: r.name.to_string(), ..pick(&r.history) }).collect(),
    };
    vec![
        panel("training loss", loss, true, &|h| shifted(&h.train, 1)),
        panel("validation loss", loss, true, &|h| shifted(&h.valid, first_epoch)),
        panel("validation accuracy", "accuracy", false, &|h| shifted(&h.accuracy, first_epoch)),
    ]
}
