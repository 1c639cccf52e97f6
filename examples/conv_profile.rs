//! A plain loop over one convolution workload, for profilers and CPU-time counters (`perf stat`,
//! `perf record`), which the criterion benches (benches/conv.rs, benches/t10.rs) are not made for: it runs
//! `ITERATIONS` forward+backward passes (or T10 training steps) of torchlet or, with `--features tch`, of
//! libtorch, and nothing else. The difference between two iteration counts removes the start-up.
//!
//! Workloads: `conv-t10` (`[128, 16, 8, 8]` → 32 channels, 3×3, padding 1, as benches/conv.rs),
//! `conv-32x32x64` (`[8, 64, 32, 32]` → 64) and `t10-step` (the digits CNN's training step, as benches/t10.rs).
//!
//! Run: `RAYON_NUM_THREADS=1 MATMUL_NUM_THREADS=1 perf stat -e task-clock cargo run --release --features tch
//! --example conv_profile -- conv-t10 libtorch 23` (libtorch runs on one thread here).

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::functional::{conv2d, Conv2dOptions};
use torchlet::{Error, Result, Tensor};
use torchlet_tutorials::classification::Classifier;
use torchlet_tutorials::cnn::{images, initial_parameters, AutodiffCnn, BATCH, LR};
use torchlet_tutorials::digits::digits_data;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        || Error::invalid("conv_profile", format!("usage: WORKLOAD torchlet|libtorch ITERATIONS, got {args:?}"));
    let [workload, library, iterations] = &args[..] else { return Err(usage()) };
    let iterations: usize = iterations.parse().map_err(|_| usage())?;
    let libtorch = match library.as_str() {
        "torchlet" => false,
        "libtorch" => true,
        _ => return Err(usage()),
    };
    match workload.as_str() {
        "conv-t10" => convolution([128, 16, 8, 8], 32, libtorch, iterations),
        "conv-32x32x64" => convolution([8, 64, 32, 32], 64, libtorch, iterations),
        "t10-step" => t10_step(libtorch, iterations),
        _ => Err(usage()),
    }
}

/// A 3×3 convolution with padding 1 of a `shape` input into `out` channels, forward and backward of the
/// summed output, `iterations` times.
fn convolution(shape: [usize; 4], out: usize, libtorch: bool, iterations: usize) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::<f32>::randn_with(&shape, &mut rng).requires_grad_(true)?;
    let w = Tensor::<f32>::randn_with(&[out, shape[1], 3, 3], &mut rng).mul_scalar(0.1)?.requires_grad_(true)?;
    let b = Tensor::<f32>::randn_with(&[out], &mut rng).requires_grad_(true)?;
    if libtorch {
        return libtorch_convolution(&[&x, &w, &b], iterations);
    }
    let options = Conv2dOptions::default().padding(1);
    for _ in 0..iterations {
        [&x, &w, &b].iter().for_each(|p| p.zero_grad());
        conv2d(&x, &w, Some(&b), &options)?.sum()?.backward()?;
    }
    Ok(())
}

#[cfg(feature = "tch")]
fn libtorch_convolution(tensors: &[&Tensor<f32>; 3], iterations: usize) -> Result<()> {
    tch::set_num_threads(1);
    let leaf = |t: &Tensor<f32>| -> Result<tch::Tensor> {
        Ok(torchlet_tutorials::libtorch::to_tch(t)?.set_requires_grad(true))
    };
    let [x, w, b] = [leaf(tensors[0])?, leaf(tensors[1])?, leaf(tensors[2])?];
    for _ in 0..iterations {
        for p in [&x, &w, &b] {
            let mut grad = p.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
        }
        x.conv2d(&w, Some(&b), [1, 1], [1, 1], [1, 1], 1).sum(tch::Kind::Float).backward();
    }
    Ok(())
}

#[cfg(not(feature = "tch"))]
fn libtorch_convolution(_: &[&Tensor<f32>; 3], _: usize) -> Result<()> {
    Err(Error::invalid("conv_profile", "libtorch needs --features tch"))
}

/// `iterations` training steps of T10's digits CNN on one batch, after one step of warm-up.
fn t10_step(libtorch: bool, iterations: usize) -> Result<()> {
    let data = images::<f32>(&digits_data(0)?)?;
    let params = initial_parameters::<f32, _>(8, &mut StdRng::seed_from_u64(7))?;
    let (x, y) = (data.x_train.narrow(0, 0, BATCH)?, data.y_train.narrow(0, 0, BATCH)?);
    let mut model: Box<dyn Classifier<f32>> =
        if libtorch { libtorch_cnn(&params)? } else { Box::new(AutodiffCnn::new(&params, LR)?) };
    for _ in 0..=iterations {
        model.train_step(&x, &y)?;
    }
    Ok(())
}

#[cfg(feature = "tch")]
fn libtorch_cnn(params: &[Tensor<f32>]) -> Result<Box<dyn Classifier<f32>>> {
    tch::set_num_threads(1);
    Ok(Box::new(torchlet_tutorials::libtorch::TchCnn::from_parameters(params, LR)?))
}

#[cfg(not(feature = "tch"))]
fn libtorch_cnn(_: &[Tensor<f32>]) -> Result<Box<dyn Classifier<f32>>> {
    Err(Error::invalid("conv_profile", "libtorch needs --features tch"))
}
