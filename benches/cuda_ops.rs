//! GPU workloads (feature `cuda`): matmul 1024² and 4096², a Linear(512→256) training step on a batch of
//! 4096, and add and sum over 10⁷ elements, in f32, each timed up to `torchlet::cuda::synchronize`.
//! `scripts/gpu_reference.py` times the same workloads with PyTorch on the same machine. Without a usable
//! GPU the bench says so and measures nothing.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::nn::{functional::mse_loss, Linear, Module, Reduction};
use torchlet::optim::SGD;
use torchlet::{Device, Result, Tensor};

fn workloads(c: &mut Criterion, dev: Device) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(0);
    let sync = || torchlet::cuda::synchronize(dev).unwrap();
    let mut group = c.benchmark_group("cuda_f32");
    for n in [1024usize, 4096] {
        let a = Tensor::<f32>::randn_with(&[n, n], &mut rng).to(dev)?;
        let b = Tensor::<f32>::randn_with(&[n, n], &mut rng).to(dev)?;
        group.bench_function(format!("matmul_{n}"), |bench| {
            bench.iter(|| {
                black_box(a.matmul(&b).unwrap());
                sync();
            })
        });
    }
    let x = Tensor::<f32>::randn_with(&[4096, 512], &mut rng).to(dev)?;
    let y = Tensor::<f32>::randn_with(&[4096, 256], &mut rng).to(dev)?;
    let model = Linear::<f32>::with_rng(512, 256, true, &mut rng).to(dev)?;
    let mut opt = SGD::new(model.parameters(), 1e-3)?;
    group.bench_function("linear_512_256_step_4096", |bench| {
        bench.iter(|| {
            let loss = mse_loss(&model.forward(&x).unwrap(), &y, Reduction::Mean).unwrap();
            opt.zero_grad();
            loss.backward().unwrap();
            opt.step().unwrap();
            sync();
        })
    });
    let big_a = Tensor::<f32>::randn_with(&[10_000_000], &mut rng).to(dev)?;
    let big_b = Tensor::<f32>::randn_with(&[10_000_000], &mut rng).to(dev)?;
    group.bench_function("add_1e7", |bench| {
        bench.iter(|| {
            black_box(big_a.add(&big_b).unwrap());
            sync();
        })
    });
    group.bench_function("sum_1e7", |bench| {
        bench.iter(|| {
            black_box(big_a.sum().unwrap());
            sync();
        })
    });
    group.finish();
    Ok(())
}

fn benches(c: &mut Criterion) {
    if !torchlet::cuda::is_available() {
        let why = Tensor::<f32>::full_on(&[1], 0.0, Device::Cuda(0)).err().map(|e| e.to_string()).unwrap_or_default();
        eprintln!("cuda_ops: SKIPPED, no usable CUDA GPU: {why}");
        return;
    }
    workloads(c, Device::Cuda(0)).expect("cuda_ops benchmark failed");
}

criterion_group!(cuda, benches);
criterion_main!(cuda);
