//! T11b — a physics-informed network: `u″(x) = −π² sin(πx)` on [0, 1], `u(0) = u(1) = 0`, solved by a
//! `1→32→32→1` tanh network trained on the equation's residual at 64 interior points plus the boundary
//! values, with Adam (lr 1e-3) for 3 000 steps in f64. Trained with u′ and u″ and their parameter gradients
//! written out by hand, and with torchlet's autograd taking u″ as `grad(grad(u, x, create_graph), x,
//! create_graph)`, side by side with libtorch doing the same when built with `--features tch`.
//!
//! Run: `cargo run --release --example pinn`

mod common;

use common::plot::{self, Panel, Series};
use common::{max_rel_diff, note_without_libtorch, single_threaded_libtorch, to_f64};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use torchlet::{Result, Tensor};
use torchlet_tutorials::pinn::{
    exact, fit, grid, initial_parameters, max_error, AutodiffPinn, ManualPinn, Pinn, LR, POINTS, STEPS,
};

const SEED: u64 = 0;
/// Where the solution is compared with sin(πx): 201 evenly spaced points, the boundary included.
const CHECK_POINTS: usize = 201;

struct Run {
    name: &'static str,
    losses: Vec<f64>,
    u: Vec<f64>,
}

fn main() -> Result<()> {
    single_threaded_libtorch();
    println!("u''(x) = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0; exact solution sin(pi x)");
    println!(
        "net 1->32->32->1 tanh (tch's default init, seed {SEED}); {POINTS} collocation points; Adam lr {LR}, {STEPS} steps, f64"
    );
    let init: Vec<Tensor<f64>> = initial_parameters(&mut StdRng::seed_from_u64(SEED))?;

    println!("\nFrom scratch (u', u'' in closed form, their parameter gradients and Adam by hand):");
    let mut runs = vec![train("scratch", &mut ManualPinn::new(&init, LR)?)?];
    println!("\nWith torchlet's autograd (u'' by grad(grad(u, x, create_graph), x, create_graph)) and optim::Adam:");
    runs.push(train("autograd", &mut AutodiffPinn::new(&init, LR)?)?);
    #[cfg(feature = "tch")]
    {
        println!("\nlibtorch (tch) from the same parameters (u'' by run_backward twice, tch's Adam):");
        runs.push(train("libtorch", &mut torchlet_tutorials::libtorch::TchPinn::from_parameters(&init, LR)?)?);
    }

    println!("\nLargest difference between each pair (per-step loss relative, u on the grid absolute):");
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let du = a.u.iter().zip(&b.u).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
            let dl = max_rel_diff(&a.losses, &b.losses);
            println!("  {:>8} vs {:<8} loss {dl:.2e}   u {du:.2e}", a.name, b.name);
        }
    }
    plot::write_svg("pinn", &panels(&runs)?);
    note_without_libtorch();
    Ok(())
}

/// Trains `model` for the tutorial's steps, printing every 300th, then its error against sin(πx).
fn train(name: &'static str, model: &mut impl Pinn<f64>) -> Result<Run> {
    let start = Instant::now();
    let history = fit(model, STEPS, |step, l| {
        if step == 1 || step % 300 == 0 {
            println!("step {step:>4}: loss {:.6e} (equation {:.6e}, boundary {:.3e})", l.total, l.equation, l.boundary);
        }
    })?;
    let error = max_error(model, CHECK_POINTS)?;
    println!("max |u - sin(pi x)| over {CHECK_POINTS} points of [0, 1]: {error:.3e}");
    println!("({name}: {STEPS} steps in {:.1} s)", start.elapsed().as_secs_f64());
    let u = to_f64(&model.predict(&grid(CHECK_POINTS))?)?;
    Ok(Run { name, losses: history.iter().map(|l| l.total).collect(), u })
}

/// u beside sin(πx), the loss per step, and the pointwise error.
fn panels(runs: &[Run]) -> Result<Vec<Panel>> {
    let x = to_f64(&grid::<f64>(CHECK_POINTS))?;
    let exact = to_f64(&exact(&grid::<f64>(CHECK_POINTS))?)?;
    let along = |label: &str, values: &[f64]| Series {
        label: label.to_string(),
        points: x.iter().copied().zip(values.iter().copied()).collect(),
    };
    let mut solution = vec![along("sin(pi x)", &exact)];
    solution.extend(runs.iter().map(|r| along(r.name, &r.u)));
    let errors = runs.iter().map(|r| {
        let e: Vec<f64> = r.u.iter().zip(&exact).map(|(u, s)| (u - s).abs()).collect();
        along(r.name, &e)
    });
    let panel = |title: &str, x_label, y_label, log_y, series| Panel {
        title: format!("T11b, PINN: {title}"),
        x_label,
        log_x: false,
        y_label,
        log_y,
        series,
    };
    Ok(vec![
        panel("u(x) and sin(pi x)", "x", "u", false, solution),
        panel("loss", "step", "loss", true, runs.iter().map(|r| Series::per_epoch(r.name, &r.losses)).collect()),
        panel("|u - sin(pi x)|", "x", "error", true, errors.collect()),
    ])
}
