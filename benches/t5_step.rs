//! T5's training step, torchlet beside libtorch: `X [3, 2]`, `y [3, 1]`, no bias, lr 1e-4, f32 and f64.
//!
//! * `t5_builtins_step_*`: `nn::Linear(2, 1, bias=False)` + `MSELoss` + `SGD` (`AutodiffLinear::train_step`)
//!   beside `tch::nn::linear` + `mse_loss` + libtorch's `SGD` (`opt.zero_grad(); loss.backward(); opt.step()`).
//! * `t5_tensor_step_*`: raw-tensor autograd (`TensorLinear::train_step`: `diff = X wᵀ - y`,
//!   `loss = sum(diff * diff) / n`, backward, `no_grad { w -= w.grad * lr }`, `w.grad.zero_()`) beside the
//!   same ops on tch tensors.
//!
//! Both sides return the loss as a number every step (`loss.item()`), as the tutorial loops do. The libtorch
//! side keeps its tensors across iterations (no conversions in the timed loop). Before timing (and in
//! criterion's `--test` pass) both sides take ten steps from the same start, and their losses and weights
//! must agree (`tolerance`), or the bench fails.

mod common;

use common::{t5_data, T5_LR};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use torchlet::nn::Linear;
use torchlet::{Element, Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};

#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;
#[cfg(feature = "tch")]
use torchlet_tutorials::libtorch::TchElement as BenchElement;

/// Steps both sides take from the same start before their losses and weights are compared.
const CHECK_STEPS: usize = 10;

/// `CHECK_STEPS` losses of `step`, as f64.
fn losses<T: Element>(mut step: impl FnMut() -> Result<T>) -> Result<Vec<f64>> {
    (0..CHECK_STEPS).map(|_| Ok(step()?.to_f64().unwrap_or(f64::NAN))).collect()
}

/// The relative tolerance of the comparison with libtorch: the same operations in the same order, so the
/// sides differ only where the libraries' kernels round differently (the reductions' order, a fused
/// multiply-add), a few ulps a step: 1e-12 in f64, 1e-5 in f32 (measured: see the `parity` lines).
#[cfg(feature = "tch")]
fn tolerance<T: Element>() -> f64 {
    if std::mem::size_of::<T>() == 8 {
        1e-12
    } else {
        1e-5
    }
}

fn builtins<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let (x, y) = t5_data::<T>()?;
    let zeros = Tensor::<T>::zeros(&[1, 2]);
    let mut model = AutodiffLinear::new(Linear::from_parameters(&zeros, None)?, T5_LR)?;
    let ours = losses(|| model.train_step(&x, &y))?;
    common::assert_finite(name, "losses", &ours);
    #[cfg(feature = "tch")]
    let (_vs, linear, mut opt, tx, ty) = {
        let (vs, linear, mut opt) = common::tch_linear(&zeros, None, T5_LR)?;
        let (tx, ty) = (torchlet_tutorials::libtorch::to_tch(&x)?, torchlet_tutorials::libtorch::to_tch(&y)?);
        let theirs: Vec<f64> = (0..CHECK_STEPS).map(|_| common::tch_linear_step(&linear, &mut opt, &tx, &ty)).collect();
        common::assert_close(name, &format!("losses of {CHECK_STEPS} steps"), &ours, &theirs, tolerance::<T>(), 0.0);
        let weights = (common::flat(&[model.linear().weight().clone()])?, common::flat_tch(&[&linear.ws]));
        common::assert_close(name, "weight after them", &weights.0, &weights.1, tolerance::<T>(), 0.0);
        (vs, linear, opt, tx, ty)
    };
    common::twin_skipped(name);
    let mut group = c.benchmark_group(name);
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    group.bench_function("libtorch", |b| {
        b.iter(|| common::tch_linear_step(&linear, &mut opt, black_box(&tx), black_box(&ty)))
    });
    group.finish();
    Ok(())
}

fn tensor_autograd<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let (x, y) = t5_data::<T>()?;
    let zeros = Tensor::<T>::zeros(&[1, 2]);
    let mut model = TensorLinear::new(zeros.clone(), None, T5_LR)?;
    let ours = losses(|| model.train_step(&x, &y))?;
    common::assert_finite(name, "losses", &ours);
    #[cfg(feature = "tch")]
    let (mut w, tx, ty) = {
        let mut w = torchlet_tutorials::libtorch::to_tch(&zeros)?.set_requires_grad(true);
        let (tx, ty) = (torchlet_tutorials::libtorch::to_tch(&x)?, torchlet_tutorials::libtorch::to_tch(&y)?);
        let theirs: Vec<f64> = (0..CHECK_STEPS).map(|_| common::tch_tensor_step(&mut w, &tx, &ty, T5_LR)).collect();
        common::assert_close(name, &format!("losses of {CHECK_STEPS} steps"), &ours, &theirs, tolerance::<T>(), 0.0);
        let weights = (common::flat(&[model.weight().clone()])?, common::flat_tch(&[&w]));
        common::assert_close(name, "weight after them", &weights.0, &weights.1, tolerance::<T>(), 0.0);
        (w, tx, ty)
    };
    common::twin_skipped(name);
    let mut group = c.benchmark_group(name);
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    group.bench_function("libtorch", |b| {
        b.iter(|| common::tch_tensor_step(&mut w, black_box(&tx), black_box(&ty), T5_LR))
    });
    group.finish();
    Ok(())
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    run(c).expect("t5_step benchmark failed");
}

fn run(c: &mut Criterion) -> Result<()> {
    builtins::<f32>(c, "t5_builtins_step_f32")?;
    builtins::<f64>(c, "t5_builtins_step_f64")?;
    tensor_autograd::<f32>(c, "t5_tensor_step_f32")?;
    tensor_autograd::<f64>(c, "t5_tensor_step_f64")?;
    Ok(())
}

criterion_group! {
    name = t5;
    config = common::criterion();
    targets = benches
}
criterion_main!(t5);
