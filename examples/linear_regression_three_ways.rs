//! T5 — linear regression three ways on `y = X [10, 20]ᵀ` with no bias, a million epochs each: hand-written
//! gradients (f64), tensor autograd (f32), and the built-ins nn.Linear + MSELoss + SGD (f32). A speed test
//! of per-step overhead as much as a tutorial. With `--features tch`, libtorch runs ways 2 and 3 too.
//!
//! Run: `cargo run --release --example linear_regression_three_ways [-- EPOCHS] [--device cuda]`

mod common;

use common::plot::{self, Panel, Series};
use common::{device_and_args, max_rel_diff, note_without_libtorch, to_f64};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;
use torchlet::nn::Linear;
use torchlet::{Element, Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, ManualLinear, Regressor, TensorLinear};

const LR: f64 = 1e-4;

fn main() -> Result<()> {
    let (device, args) = device_and_args()?;
    let epochs: usize = match args.first() {
        Some(arg) => arg.parse().map_err(|_| torchlet::Error::InvalidArgument {
            op: "linear_regression_three_ways",
            msg: format!("EPOCHS must be a whole number, got {arg:?}"),
        })?,
        None => 1_000_000,
    };
    println!("X = [[1, 2], [3, 4], [5, 6]], w_true = [[10], [20]], y = X w_true; lr {LR}, {epochs} epochs\n");

    let x64 = Tensor::<f64>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).to(device)?;
    let y64 = x64.matmul(&Tensor::new([[10.0], [20.0]]).to(device)?)?;
    let mut way1 = ManualLinear::from_parameters(Tensor::new([[0.1], [0.1]]).to(device)?, None, LR)?;
    let (w1, c1) =
        train("way 1, hand-written gradients (f64)", &mut way1, &x64, &y64, epochs, |m| Ok(m.weight().clone()))?;

    let (x, y) = (cast(&x64)?, cast(&y64)?);
    // Ways 2 and 3 start from w = [[0], [0]], kept as nn.Linear's [out, in] = [1, 2].
    let zeros = Tensor::<f32>::zeros(&[1, 2]).to(device)?;
    let mut way2 = TensorLinear::new(zeros.clone(), None, LR)?;
    let (w2, c2) = train("way 2, tensor autograd (f32)", &mut way2, &x, &y, epochs, |m| m.weight().t())?;
    let mut way3 = AutodiffLinear::new(Linear::from_parameters(&zeros, None)?, LR)?;
    let (w3, c3) =
        train("way 3, nn.Linear + MSELoss + SGD (f32)", &mut way3, &x, &y, epochs, |m| m.linear().weight().t())?;
    println!("\nway 1 vs way 3 (f64 vs f32): largest relative difference {:.2e}", max_rel_diff(&w1, &w3));
    #[cfg_attr(not(feature = "tch"), allow(unused_mut))]
    let mut curves = vec![c1, c2, c3];

    #[cfg(feature = "tch")]
    {
        use torchlet_tutorials::libtorch::{TchLinear, TchTensorLinear};
        println!();
        let mut tch2 = TchTensorLinear::new(&zeros, None, LR)?;
        let (t2, l2) = train("libtorch way 2 (f32)", &mut tch2, &x, &y, epochs, |m| m.weight()?.t())?;
        let mut tch3 = TchLinear::from_linear(&Linear::from_parameters(&zeros, None)?, LR)?;
        let (t3, l3) = train("libtorch way 3 (f32)", &mut tch3, &x, &y, epochs, |m| m.weight()?.t())?;
        println!("\nLargest relative difference of the final weights:");
        println!("  way 2 vs libtorch way 2: {:.2e}", max_rel_diff(&w2, &t2));
        println!("  way 3 vs libtorch way 3: {:.2e}", max_rel_diff(&w3, &t3));
        curves.extend([l2, l3]);
    }
    #[cfg(not(feature = "tch"))]
    let _ = w2;
    let title = format!("T5: y = X [10, 20]ᵀ, lr {LR}, {epochs} epochs");
    plot::write_svg(
        "linear_regression_three_ways",
        &[Panel { title, x_label: "epoch", log_x: true, y_label: "loss (MSE)", log_y: true, series: curves }],
    );
    note_without_libtorch();
    Ok(())
}

fn cast(t: &Tensor<f64>) -> Result<Tensor<f32>> {
    Tensor::from_vec(t.to_vec()?.into_iter().map(|v| v as f32).collect(), t.shape())?.to(t.device())
}

/// Runs `epochs` full-batch steps, printing progress, the final weights and the time per step; returns
/// the final weights as f64 and the loss curve, sampled at geometrically spaced epochs (about 700 points for
/// a million epochs, as many as a log-scaled picture can show).
///
/// On a terminal a progress bar runs beside the five progress lines; it is cleared at the end, so what
/// remains is the same as when the output goes to a file or a pipe, where no bar is drawn.
fn train<T: Element, M: Regressor<T>>(
    name: &str,
    model: &mut M,
    x: &Tensor<T>,
    y: &Tensor<T>,
    epochs: usize,
    weight: impl Fn(&M) -> Result<Tensor<T>>,
) -> Result<(Vec<f64>, Series)> {
    println!("{name}:");
    let bar = std::io::stdout().is_terminal().then(|| progress_bar(epochs));
    let say = |line: String| match &bar {
        Some(bar) => bar.println(line),
        None => println!("{line}"),
    };
    let start = Instant::now();
    let report_every = (epochs / 5).max(1);
    let mut curve = Vec::new();
    let mut next_point = 1;
    for epoch in 1..=epochs {
        let loss = model.train_step(x, y)?;
        if epoch == next_point || epoch == epochs {
            curve.push((epoch as f64, loss.to_f64().unwrap_or(f64::NAN)));
            next_point = (epoch + 1).max(epoch + epoch / 50);
        }
        if epoch % report_every == 0 {
            say(format!("  epoch {epoch:>8}/{epochs}: loss {:.6e}", loss.to_f64().unwrap_or(f64::NAN)));
        }
        // The bar redraws itself at most a few times a second; telling it every 4096 steps keeps its cost
        // out of the µs-per-step figure below.
        if epoch % 4096 == 0 {
            if let Some(bar) = &bar {
                bar.set_position(epoch as u64);
            }
        }
    }
    let per_step = start.elapsed().as_secs_f64() / epochs.max(1) as f64;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let w = to_f64(&weight(model)?)?;
    println!("  w = [{:.8}, {:.8}]   ({:.3} µs per step)", w[0], w[1], per_step * 1e6);
    Ok((w, Series { label: name.to_string(), points: curve }))
}

fn progress_bar(epochs: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(epochs as u64), ProgressDrawTarget::stdout());
    let style = ProgressStyle::with_template("  [{bar:40}] {pos}/{len} epochs ({percent}%), eta {eta}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
