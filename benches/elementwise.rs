//! Elementwise add and full sum over 10⁷ f32 (40 MB per tensor, far beyond the caches: memory-bound),
//! torchlet (`add`, `sum`) beside libtorch (`+`, `sum`), no grad. Both allocate the result each call.
//!
//! libtorch runs with the suite's thread count (`common::set_libtorch_threads`); `libtorch_1thread` is the
//! same call with libtorch's intra-op pool set to one thread, for comparing single-threaded kernels.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::{Result, Tensor};

const N: usize = 10_000_000;

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    run(c).expect("elementwise benchmark failed");
}

fn run(c: &mut Criterion) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(3);
    let (a, b) = (Tensor::<f32>::randn(&[N], &mut rng), Tensor::<f32>::randn(&[N], &mut rng));
    #[cfg(feature = "tch")]
    let (ta, tb) = (torchlet::tutorials::libtorch::to_tch(&a)?, torchlet::tutorials::libtorch::to_tch(&b)?);

    let mut group = c.benchmark_group("add_1e7_f32");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("torchlet", |bench| bench.iter(|| black_box(&a).add(black_box(&b)).unwrap()));
    #[cfg(feature = "tch")]
    {
        group.bench_function("libtorch", |bench| bench.iter(|| black_box(&ta) + black_box(&tb)));
        tch::set_num_threads(1);
        group.bench_function("libtorch_1thread", |bench| bench.iter(|| black_box(&ta) + black_box(&tb)));
        common::set_libtorch_threads();
    }
    group.finish();

    let mut group = c.benchmark_group("sum_1e7_f32");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("torchlet", |bench| bench.iter(|| black_box(&a).sum().unwrap().item().unwrap()));
    #[cfg(feature = "tch")]
    {
        group.bench_function("libtorch", |bench| bench.iter(|| black_box(&ta).sum(None).double_value(&[])));
        tch::set_num_threads(1);
        group.bench_function("libtorch_1thread", |bench| bench.iter(|| black_box(&ta).sum(None).double_value(&[])));
        common::set_libtorch_threads();
    }
    group.finish();
    Ok(())
}

criterion_group! {
    name = elementwise;
    config = common::criterion();
    targets = benches
}
criterion_main!(elementwise);
