//! A training step of `Linear(512 -> 256)` (with bias) on a batch of 4096, f32 and f64: forward,
//! `MSELoss`, `zero_grad`, backward, `SGD.step` (lr 0.01), loss read back as a number; torchlet's
//! `AutodiffLinear::train_step` beside libtorch's `nn::linear` + `mse_loss` + `SGD` on tensors kept across
//! iterations. Three GEMMs of 4096·512·256 multiply-adds each dominate.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::nn::Linear;
use torchlet::tutorials::regression::{AutodiffLinear, Regressor};
use torchlet::{Result, Tensor};

#[cfg(feature = "tch")]
use torchlet::tutorials::libtorch::TchElement as BenchElement;
#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;

const BATCH: usize = 4096;
const IN: usize = 512;
const OUT: usize = 256;
const LR: f64 = 0.01;

fn bench_step<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let (x, y) = (Tensor::<T>::randn(&[BATCH, IN], &mut rng), Tensor::<T>::randn(&[BATCH, OUT], &mut rng));
    let linear = Linear::<T>::new(IN, OUT, true, &mut rng);
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    let mut model = AutodiffLinear::new(Linear::from_parameters(linear.weight(), linear.bias())?, LR)?;
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    {
        let (_vs, tch_linear, mut opt) = common::tch_linear(linear.weight(), linear.bias(), LR)?;
        let (x, y) = (torchlet::tutorials::libtorch::to_tch(&x)?, torchlet::tutorials::libtorch::to_tch(&y)?);
        group.bench_function("libtorch", |b| {
            b.iter(|| common::tch_linear_step(&tch_linear, &mut opt, black_box(&x), black_box(&y)))
        });
    }
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
