//! Elementwise ops and full reductions over 10⁷ elements (40 MB per f32 tensor, 80 MB per f64 one, far
//! beyond the caches), torchlet beside libtorch, no grad, in f32 and f64. Both allocate the result each call.
//!
//! libtorch runs with the suite's thread count (`common::set_libtorch_threads`); `libtorch_1thread` (add and
//! sum in f32) is the same call with libtorch's intra-op pool set to one thread, for comparing
//! single-threaded kernels.
//!
//! Before timing (and in criterion's `--test` pass) each result is checked: add and sum against the same
//! computed element by element (the sum in f64), and every workload against its libtorch twin.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::{GeluApproximate, Result, Tensor};

const N: usize = 10_000_000;

/// The element types benched: with `--features tch`, those libtorch shares.
#[cfg(feature = "tch")]
trait Elem: torchlet_tutorials::libtorch::TchElement {}
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
    let (a, b) = (Tensor::<T>::randn_with(&[N], &mut rng), Tensor::<T>::randn_with(&[N], &mut rng));
    #[cfg(feature = "tch")]
    let (ta, tb) = (torchlet_tutorials::libtorch::to_tch(&a)?, torchlet_tutorials::libtorch::to_tch(&b)?);
    check(&a, &b, dtype)?;
    for (name, ours) in workloads::<T>() {
        #[cfg(feature = "tch")]
        {
            let workload = format!("{name}_1e7_{dtype}");
            let (rtol, atol) = tolerance::<T>(name);
            let theirs = common::flat_tch(&[&twin(name)(&ta, &tb)]);
            common::assert_close(&workload, "the result", &common::flat(&[ours(&a, &b)?])?, &theirs, rtol, atol);
        }
        common::twin_skipped(&format!("{name}_1e7_{dtype}"));
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

/// How far torchlet's result of workload `name` may be from libtorch's, `(rtol, atol)` per element.
/// add, mul and relu round once (or not at all), the same in both: equal to the bit. The transcendental
/// functions: a few ulps, as in the parity tests (tests/common/torch.rs). sum and mean: see [`sum_tolerance`].
#[cfg(feature = "tch")]
fn tolerance<T: Elem>(name: &str) -> (f64, f64) {
    let f32 = std::mem::size_of::<T>() == 4;
    let eps = if f32 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    match name {
        "add" | "mul" | "relu" => (0.0, 0.0),
        "sum" => (0.0, sum_tolerance::<T>()),
        "mean" => (0.0, sum_tolerance::<T>() / N as f64),
        _ => (if f32 { 1e-6 } else { 1e-14 }, 16.0 * eps),
    }
}

/// How far a sum of the 10⁷ N(0, 1) values may be from another summation of them. In f32 a blocked or
/// pairwise sum errs by ~1e-4 here (measured: torchlet 1.2e-4 from the f64 sum, libtorch 2.4e-4 from
/// torchlet); a sequential sum per SIMD lane, whose partial sums reach ~10³ (ulp 6e-5) over 10⁶ additions, by
/// up to a few 1e-2: 0.1. In f64 the same orders err by ~1e-12: 1e-8. A lost or doubled element (|x| ~ 1)
/// is far beyond either.
fn sum_tolerance<T: Elem>() -> f64 {
    if std::mem::size_of::<T>() == 4 {
        0.1
    } else {
        1e-8
    }
}

/// Checks torchlet's add and sum against the same computed here: the add exact, the sum within
/// [`sum_tolerance`] of the f64 sum of the values (exact to ~1e-9).
fn check<T: Elem>(a: &Tensor<T>, b: &Tensor<T>, dtype: &str) -> Result<()> {
    let (av, bv) = (a.to_vec()?, b.to_vec()?);
    let added = a.add(b)?.to_vec()?;
    let wrong = av.iter().zip(&bv).zip(&added).position(|((&x, &y), &z)| x + y != z);
    assert!(wrong.is_none(), "add_1e7_{dtype}: element {wrong:?} differs from a + b");
    let exact: f64 = av.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).sum();
    let sum = a.sum()?.item()?.to_f64().unwrap_or(f64::NAN);
    let tolerance = sum_tolerance::<T>();
    assert!((sum - exact).abs() <= tolerance, "sum_1e7_{dtype}: {sum} differs from the f64 sum {exact}");
    eprintln!(
        "check sum_1e7_{dtype}: {sum} vs the f64 sum {exact} (difference {:.2e}, tolerance {tolerance})",
        (sum - exact).abs()
    );
    Ok(())
}

criterion_group! {
    name = elementwise;
    config = common::criterion();
    targets = benches
}
criterion_main!(elementwise);
