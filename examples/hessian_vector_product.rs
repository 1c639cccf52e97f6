//! T11a — Hessian-vector products of T8's training loss (the MSE of the five-layer perceptron over its 1 000
//! training rows) at the initial parameters and after T8's training: `H v` by double backward, `grad(grad(L,
//! θ, create_graph) · v, θ)`, against central differences of gradients and, when built with `--features
//! tch`, against libtorch's double backward; then a two-layer tanh network whose `H v` is also derived by
//! hand, forward-over-reverse.
//!
//! Run: `cargo run --release --example hessian_vector_product`

mod common;

use common::plot::{self, Panel, Series};
use common::single_threaded_libtorch;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::{Linear, Module};
use torchlet::{Result, Tensor};
use torchlet_tutorials::hessian::{
    dot, finite_difference_hvp, hessian_vector_product, network, random_direction, relative_error, training_loss,
    TanhNet, FD_EPS, TANH_NET,
};
use torchlet_tutorials::mlp::{mlp_data, mlp_linears, AutodiffMlp, BATCH, EPOCHS, LAYERS, LR};
use torchlet_tutorials::regression::fit;
use torchlet_tutorials::{Activation, Layers, Split};

/// T8's data and initial-parameter seed (the `mlp` example's).
const SEED: u64 = 2024;
/// The seed of the direction v.
const DIRECTION_SEED: u64 = 11;
/// The steps of the finite-difference curve.
const EPSILONS: [f64; 9] = [1e-1, 1e-2, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7];

fn main() -> Result<()> {
    single_threaded_libtorch();
    let data = mlp_data(SEED)?;
    let activations: Vec<Activation> = LAYERS.iter().map(|l| l.2).collect();
    println!("T8's MLP and data (seed {SEED}); L(theta) = MSE over the {} training rows", data.x_train.shape()[0]);
    println!(
        "v: a standard normal direction (seed {DIRECTION_SEED}) scaled to norm 1; finite differences at eps {FD_EPS:e}"
    );

    let initial = mlp_linears::<f64, _>(&mut StdRng::seed_from_u64(SEED));
    let mut curves = vec![report("T8 MLP at the initial parameters", &initial, &activations, &data)?];
    let trained = train(&initial, &activations, &data)?;
    curves.push(report(&format!("T8 MLP after {EPOCHS} epochs of T8's SGD"), &trained, &activations, &data)?);

    let tanh_activations: Vec<Activation> = TANH_NET.iter().map(|l| l.2).collect();
    let mut rng = StdRng::seed_from_u64(SEED);
    let tanh_net: Vec<Linear<f64>> = TANH_NET.iter().map(|&(i, o, _)| Linear::with_rng(i, o, true, &mut rng)).collect();
    curves.push(report("tanh net 6->32->3 at the initial parameters", &tanh_net, &tanh_activations, &data)?);
    by_hand(&tanh_net, &tanh_activations, &data)?;
    let trained = train(&tanh_net, &tanh_activations, &data)?;
    let what = format!("tanh net 6->32->3 after {EPOCHS} epochs of T8's SGD");
    curves.push(report(&what, &trained, &tanh_activations, &data)?);
    by_hand(&trained, &tanh_activations, &data)?;

    plot::write_svg(
        "hessian_vector_product",
        &[Panel {
            title: "T11a: finite-difference H v against double backward".into(),
            x_label: "eps",
            log_x: true,
            y_label: "|FD - Hv| / |Hv|",
            log_y: true,
            series: curves,
        }],
    );
    common::note_without_libtorch();
    Ok(())
}

/// T8's training (SGD, batches of 333, 32 epochs) of copies of `linears`; returns the trained layers.
fn train(linears: &[Linear<f64>], activations: &[Activation], data: &Split<f64>) -> Result<Vec<Linear<f64>>> {
    let copies = linears.iter().map(|l| Linear::from_parameters(l.weight(), l.bias())).collect::<Result<_>>()?;
    let mut model = AutodiffMlp::new(copies, activations, LR)?;
    let (mut train, mut valid) = data.loaders(BATCH, data.y_valid.shape()[0], None)?;
    let history = fit(&mut model, &mut train, &mut valid, EPOCHS, |_, _, _| {})?;
    let (first, last) = (history.train[0], history.train[EPOCHS - 1]);
    println!("\n(trained: epoch 0 L {first:.4}, epoch {} L {last:.4})", EPOCHS - 1);
    model.linears()
}

/// Prints L, |∇L|, vᵀHv and how far the finite differences (and libtorch) are from the double backward's
/// H v; returns the finite differences' error against ε.
fn report(what: &str, linears: &[Linear<f64>], activations: &[Activation], data: &Split<f64>) -> Result<Series> {
    let (x, y) = (&data.x_train, &data.y_train);
    let net = network(linears, activations)?;
    let v = random_direction(&net.parameters(), &mut StdRng::seed_from_u64(DIRECTION_SEED))?;
    let ours = hessian_vector_product(&net, x, y, &v)?;
    println!("\n{what}:");
    println!(
        "  L {:.6}   |grad L| {:.6e}   v.Hv {:.6e}   |Hv| {:.6e}",
        training_loss(&net, x, y)?.item()?,
        dot(&ours.gradient, &ours.gradient)?.sqrt(),
        dot(&ours.hv, &v)?,
        dot(&ours.hv, &ours.hv)?.sqrt()
    );
    let mut points = Vec::new();
    for eps in EPSILONS {
        let fd = finite_difference_hvp(linears, activations, (x, y), &v, eps)?;
        points.push((eps, relative_error(&fd, &ours.hv)?));
    }
    let fd = finite_difference_hvp(linears, activations, (x, y), &v, FD_EPS)?;
    println!("  finite differences (eps {FD_EPS:e}) vs double backward: {:.2e}", relative_error(&fd, &ours.hv)?);
    let curve: Vec<String> = points.iter().map(|(e, r)| format!("{e:.0e}: {r:.1e}")).collect();
    println!("  ... against eps: {}", curve.join(", "));
    #[cfg(feature = "tch")]
    {
        let theirs = torchlet_tutorials::libtorch::tch_hessian_vector_product(linears, activations, (x, y), &v)?;
        println!(
            "  libtorch's double backward vs ours: Hv {:.2e}, grad L {:.2e}",
            relative_error(&ours.hv, &theirs.hv)?,
            relative_error(&ours.gradient, &theirs.gradient)?
        );
    }
    Ok(Series { label: what.to_string(), points })
}

/// The tanh net's H v by hand (forward-over-reverse) against the double backward's, and its gradient.
fn by_hand(linears: &[Linear<f64>], activations: &[Activation], data: &Split<f64>) -> Result<()> {
    let (x, y) = (&data.x_train, &data.y_train);
    let net = network(linears, activations)?;
    let v: Vec<Tensor<f64>> = random_direction(&net.parameters(), &mut StdRng::seed_from_u64(DIRECTION_SEED))?;
    let autograd = hessian_vector_product(&net, x, y, &v)?;
    let hand = TanhNet::new(&linears[0], &linears[1])?;
    println!(
        "  by hand (forward-over-reverse) vs double backward, L {:.6}: Hv {:.2e}, grad L {:.2e}",
        hand.loss(x, y)?,
        relative_error(&hand.hessian_vector_product(x, y, &v)?, &autograd.hv)?,
        relative_error(&hand.gradient(x, y)?, &autograd.gradient)?
    );
    Ok(())
}
