//! A training step of `Linear(512 -> 256)` (with bias) on a batch of 4096, f32 and f64: forward,
//! `MSELoss`, `zero_grad`, backward, `SGD.step` (lr 0.01), loss read back as a number; torchlet's
//! `AutodiffLinear::train_step` beside libtorch's `nn::linear` + `mse_loss` + `SGD` on tensors kept across
//! iterations. Three GEMMs of 4096·512·256 multiply-adds each dominate. Before timing (and in criterion's
//! `--test` pass) both sides take two steps from the same start; their losses and parameters must agree.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::nn::Linear;
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, Regressor};

#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;
#[cfg(feature = "tch")]
use torchlet_tutorials::libtorch::TchElement as BenchElement;

const BATCH: usize = 4096;
const IN: usize = 512;
const OUT: usize = 256;
const LR: f64 = 0.01;

/// Steps both sides take from the same start before their losses and parameters are compared.
const CHECK_STEPS: usize = 2;

/// The comparison's tolerances (relative, absolute): the losses are means of 10⁶ squares and the gradients
/// sums over 4096 rows, which the two libraries' GEMMs and reductions round in different orders; a few ulps
/// of the values, relative (measured: see the `parity` lines). An absolute floor for parameters near 0.
#[cfg(feature = "tch")]
fn tolerances<T: torchlet::Element>() -> (f64, f64) {
    if std::mem::size_of::<T>() == 8 {
        (1e-12, 1e-15)
    } else {
        (1e-5, 1e-8)
    }
}

fn bench_step<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let (x, y) = (Tensor::<T>::randn_with(&[BATCH, IN], &mut rng), Tensor::<T>::randn_with(&[BATCH, OUT], &mut rng));
    let linear = Linear::<T>::with_rng(IN, OUT, true, &mut rng);
    let mut model = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    let ours = (0..CHECK_STEPS)
        .map(|_| Ok(model.train_step(&x, &y)?.to_f64().unwrap_or(f64::NAN)))
        .collect::<Result<Vec<f64>>>()?;
    common::assert_finite(name, "losses", &ours);
    #[cfg(feature = "tch")]
    let (_vs, tch_linear, mut opt, tx, ty) = {
        let (vs, tch_linear, mut opt) = common::tch_linear(linear.weight(), linear.bias(), LR)?;
        let (tx, ty) = (torchlet_tutorials::libtorch::to_tch(&x)?, torchlet_tutorials::libtorch::to_tch(&y)?);
        let theirs: Vec<f64> =
            (0..CHECK_STEPS).map(|_| common::tch_linear_step(&tch_linear, &mut opt, &tx, &ty)).collect();
        let (rtol, atol) = tolerances::<T>();
        common::assert_close(name, &format!("losses of {CHECK_STEPS} steps"), &ours, &theirs, rtol, 0.0);
        let bias = tch_linear.bs.as_ref().expect("a bias");
        let ours = common::flat(&[model.linear().weight().clone(), model.linear().bias().expect("a bias").clone()])?;
        let theirs = common::flat_tch(&[&tch_linear.ws, bias]);
        common::assert_close(name, "parameters after them", &ours, &theirs, rtol, atol);
        (vs, tch_linear, opt, tx, ty)
    };
    common::twin_skipped(name);
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    group.bench_function("libtorch", |b| {
        b.iter(|| common::tch_linear_step(&tch_linear, &mut opt, black_box(&tx), black_box(&ty)))
    });
    group.finish();
    Ok(())
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    bench_step::<f32>(c, "linear512x256_b4096_step_f32").expect("Linear step benchmark failed");
    bench_step::<f64>(c, "linear512x256_b4096_step_f64").expect("Linear step benchmark failed");
}

criterion_group! {
    name = linear_step;
    config = common::criterion();
    targets = benches
}
criterion_main!(linear_step);
