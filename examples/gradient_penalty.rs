//! T11c — a critic trained with a gradient penalty (WGAN-GP's critic step): a `2→64→64→1` LeakyReLU(0.2)
//! network scores two-moons points against the same points shifted, with the loss `mean D(fake) −
//! mean D(real) + 10·mean((‖∇ₓ̂ D(x̂)‖₂ − 1)²)` at random interpolates x̂; 200 Adam steps (lr 1e-4, betas
//! (0.5, 0.9)) in f64. Trained with the input gradient and its weight derivatives written out by hand, and
//! with torchlet's autograd taking `∇ₓ̂ D` by `grad(D(x̂), x̂, create_graph)`, side by side with libtorch
//! doing the same when built with `--features tch`.
//!
//! Run: `cargo run --release --example gradient_penalty`

mod common;

use common::plot::{self, Panel, Series};
use common::{max_rel_diff, note_without_libtorch, single_threaded_libtorch};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use torchlet::{Result, Tensor};
use torchlet_tutorials::gradient_penalty::{
    critic_data, fit, initial_parameters, AutodiffCritic, Critic, CriticData, CriticLosses, ManualCritic, BETAS,
    LAMBDA, LR, NOISE, SAMPLES, SHIFT, STEPS,
};

const SEED: u64 = 0;

struct Run {
    name: &'static str,
    history: Vec<CriticLosses>,
}

fn main() -> Result<()> {
    single_threaded_libtorch();
    println!(
        "real: make_moons(n_samples={SAMPLES}, noise={NOISE}), seed {SEED}; fake: the same points + {SHIFT:?}; \
         x_hat = a real + (1 - a) fake, a ~ U(0, 1) per point and step"
    );
    println!(
        "critic 2->64->64->1 LeakyReLU(0.2) (tch's default init); lambda {LAMBDA}; Adam lr {LR}, betas {BETAS:?}, \
         {STEPS} steps, f64"
    );
    let data = critic_data::<f64>(SEED, STEPS)?;
    let init: Vec<Tensor<f64>> = initial_parameters(&mut StdRng::seed_from_u64(SEED))?;

    println!("\nFrom scratch (the input gradient and the penalty's weight gradients by hand, Adam by hand):");
    let mut runs = vec![train("scratch", &mut ManualCritic::new(&init)?, &data)?];
    println!("\nWith torchlet's autograd (grad(D(x_hat), x_hat, create_graph)) and optim::Adam:");
    runs.push(train("autograd", &mut AutodiffCritic::new(&init)?, &data)?);
    #[cfg(feature = "tch")]
    {
        println!("\nlibtorch (tch) from the same parameters (run_backward with create_graph, tch's Adam):");
        runs.push(train("libtorch", &mut torchlet_tutorials::libtorch::TchCritic::from_parameters(&init, LR)?, &data)?);
    }

    println!("\nLargest relative difference between each pair, per step (loss, penalty, W estimate):");
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let pick = |r: &Run, f: fn(&CriticLosses) -> f64| r.history.iter().map(f).collect::<Vec<_>>();
            let gap = |f: fn(&CriticLosses) -> f64| max_rel_diff(&pick(a, f), &pick(b, f));
            let (loss, penalty, w) = (gap(|l| l.total), gap(|l| l.penalty), gap(|l| l.wasserstein));
            println!("  {:>8} vs {:<8} loss {loss:.2e}   penalty {penalty:.2e}   W {w:.2e}", a.name, b.name);
        }
    }
    plot::write_svg("gradient_penalty", &panels(&runs));
    note_without_libtorch();
    Ok(())
}

/// Trains `critic` for the tutorial's steps, printing every 20th.
fn train(name: &'static str, critic: &mut impl Critic<f64>, data: &CriticData<f64>) -> Result<Run> {
    let start = Instant::now();
    let history = fit(critic, data, STEPS, |step, l| {
        if step == 1 || step % 20 == 0 {
            println!(
                "step {step:>3}: loss {:+.6} (penalty {:.6}), W estimate {:+.6}",
                l.total, l.penalty, l.wasserstein
            );
        }
    })?;
    let norms = critic.input_gradient(&data.real)?.square()?.sum_dim(1, false)?.sqrt()?;
    println!("mean |grad_x D| over the real points: {:.4}", norms.mean()?.item()?);
    println!("({name}: {STEPS} steps in {:.2} s)", start.elapsed().as_secs_f64());
    Ok(Run { name, history })
}

/// The loss, the penalty and the critic's Wasserstein estimate, per step.
fn panels(runs: &[Run]) -> Vec<Panel> {
    let panel = |what: &str, y_label, log_y, pick: fn(&CriticLosses) -> f64| Panel {
        title: format!("T11c, gradient penalty: {what}"),
        x_label: "step",
        log_x: false,
        y_label,
        log_y,
        series: runs
            .iter()
            .map(|r| Series::per_epoch(r.name, &r.history.iter().map(pick).collect::<Vec<_>>()))
            .collect(),
    };
    vec![
        panel("critic loss", "loss", false, |l| l.total),
        panel("penalty", "penalty", true, |l| l.penalty),
        panel("W estimate, mean D(real) - mean D(fake)", "W", false, |l| l.wasserstein),
    ]
}
