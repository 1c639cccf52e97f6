//! T5's training step, torchlet beside libtorch: `X [3, 2]`, `y [3, 1]`, no bias, lr 1e-4, f32 and f64.
//!
//! * `t5_builtins_step_*`: `nn::Linear(2, 1, bias=False)` + `MSELoss` + `SGD` (`AutodiffLinear::train_step`)
//!   beside `tch::nn::linear` + `mse_loss` + libtorch's `SGD` (`opt.zero_grad(); loss.backward(); opt.step()`).
//! * `t5_tensor_step_*`: raw-tensor autograd (`TensorLinear::train_step`: `diff = X wᵀ - y`,
//!   `loss = sum(diff * diff) / n`, backward, `no_grad { w -= w.grad * lr }`, `w.grad.zero_()`) beside the
//!   same ops on tch tensors.
//!
//! Both sides return the loss as a number every step (`loss.item()`), as the tutorial loops do. The libtorch
//! side keeps its tensors across iterations (no conversions in the timed loop).

mod common;

use common::{t5_data, T5_LR};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use torchlet::nn::Linear;
use torchlet::tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};
use torchlet::{Result, Tensor};

#[cfg(feature = "tch")]
use torchlet::tutorials::libtorch::TchElement as BenchElement;
#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;

fn builtins<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let (x, y) = t5_data::<T>()?;
    let zeros = Tensor::<T>::zeros(&[1, 2]);
    let mut group = c.benchmark_group(name);
    let mut model = AutodiffLinear::new(Linear::from_parameters(&zeros, None)?, T5_LR)?;
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    {
        let (_vs, linear, mut opt) = common::tch_linear(&zeros, None, T5_LR)?;
        let (x, y) = (torchlet::tutorials::libtorch::to_tch(&x)?, torchlet::tutorials::libtorch::to_tch(&y)?);
        group.bench_function("libtorch", |b| {
            b.iter(|| common::tch_linear_step(&linear, &mut opt, black_box(&x), black_box(&y)))
        });
    }
    group.finish();
    Ok(())
}

fn tensor_autograd<T: BenchElement>(c: &mut Criterion, name: &str) -> Result<()> {
    let (x, y) = t5_data::<T>()?;
    let zeros = Tensor::<T>::zeros(&[1, 2]);
    let mut group = c.benchmark_group(name);
    let mut model = TensorLinear::new(zeros.clone(), None, T5_LR)?;
    group.bench_function("torchlet", |b| b.iter(|| model.train_step(black_box(&x), black_box(&y)).unwrap()));
    #[cfg(feature = "tch")]
    {
        let mut w = torchlet::tutorials::libtorch::to_tch(&zeros)?.set_requires_grad(true);
        let (x, y) = (torchlet::tutorials::libtorch::to_tch(&x)?, torchlet::tutorials::libtorch::to_tch(&y)?);
        group.bench_function("libtorch", |b| {
            b.iter(|| common::tch_tensor_step(&mut w, black_box(&x), black_box(&y), T5_LR))
        });
    }
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
