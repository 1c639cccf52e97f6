//! Elementwise ops and full reductions over 10⁷ elements (40 MB per f32 tensor, 80 MB per f64 one, far
//! beyond the caches), torchlet beside libtorch, no grad, in f32 and f64. Both allocate the result each call.
//!
//! libtorch runs with the suite's thread count (`common::set_libtorch_threads`); `libtorch_1thread` (add and
//! sum in f32) is the same call with libtorch's intra-op pool set to one thread, for comparing
//! single-threaded kernels.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::{GeluApproximate, Result, Tensor};

const N: usize = 10_000_000;

/// The element types benched: with `--features tch`, those libtorch shares.
#[cfg(feature = "tch")]
trait Elem: torchlet::tutorials::libtorch::TchElement {}
#[cfg(not(feature = "tch"))]
trait Elem: torchlet::Element {}
impl Elem for f32 {}
impl Elem for f64 {}

type Ours<T> = fn(&Tensor<T>, &Tensor<T>) -> Result<Tensor<T>>;

/// Each workload: its name and torchlet's call on the operands `(a, b)`.
fn workloads<T: Elem>() -> [(&'static str, Ours<T>); 10] {
    [
        ("add", |a, b| a.add(b)),
        ("mul", |a, b| a.mul(b)),
        ("sum", |a, _| a.sum()),
        ("mean", |a, _| a.mean()),
        ("exp", |a, _| a.exp()),
        ("relu", |a, _| a.relu()),
        ("sigmoid", |a, _| a.sigmoid()),
        ("tanh", |a, _| a.tanh()),
        ("gelu", |a, _| a.gelu(GeluApproximate::None)),
        ("silu", |a, _| a.silu()),
    ]
}

/// libtorch's twin of workload `name`.
#[cfg(feature = "tch")]
fn twin(name: &str) -> fn(&tch::Tensor, &tch::Tensor) -> tch::Tensor {
    match name {
        "add" => |a, b| a + b,
        "mul" => |a, b| a * b,
        "sum" => |a, _| a.sum(None),
        "mean" => |a, _| a.mean(None),
        "exp" => |a, _| a.exp(),
        "relu" => |a, _| a.relu(),
        "sigmoid" => |a, _| a.sigmoid(),
        "tanh" => |a, _| a.tanh(),
        "gelu" => |a, _| a.gelu("none"),
        "silu" => |a, _| a.silu(),
        _ => unreachable!("no libtorch twin for {name}"),
    }
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    run::<f32>(c, "f32").and_then(|()| run::<f64>(c, "f64")).expect("elementwise benchmark failed");
}

fn run<T: Elem>(c: &mut Criterion, dtype: &str) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(3);
    let (a, b) = (Tensor::<T>::randn(&[N], &mut rng), Tensor::<T>::randn(&[N], &mut rng));
    #[cfg(feature = "tch")]
    let (ta, tb) = (torchlet::tutorials::libtorch::to_tch(&a)?, torchlet::tutorials::libtorch::to_tch(&b)?);
    for (name, ours) in workloads::<T>() {
        let mut group = c.benchmark_group(format!("{name}_1e7_{dtype}"));
        group.throughput(Throughput::Elements(N as u64));
        group.bench_function("torchlet", |bench| bench.iter(|| ours(black_box(&a), black_box(&b)).unwrap()));
        #[cfg(feature = "tch")]
        {
            let theirs = twin(name);
            group.bench_function("libtorch", |bench| bench.iter(|| theirs(black_box(&ta), black_box(&tb))));
            if dtype == "f32" && (name == "add" || name == "sum") {
                tch::set_num_threads(1);
                group.bench_function("libtorch_1thread", |bench| bench.iter(|| theirs(black_box(&ta), black_box(&tb))));
                common::set_libtorch_threads();
            }
        }
        group.finish();
    }
    Ok(())
}

criterion_group! {
    name = elementwise;
    config = common::criterion();
    targets = benches
}
criterion_main!(elementwise);
