//! Elementwise add and full sum over 10⁷ f32 (40 MB per tensor, far beyond the caches: memory-bound),
//! torchlet (`add`, `sum`) beside libtorch (`+`, `sum`), no grad. Both allocate the result each call.
//!
//! libtorch runs with the suite's thread count (`common::set_libtorch_threads`); `libtorch_1thread` is the
//! same call with libtorch's intra-op pool set to one thread, for comparing single-threaded kernels.
//!
//! Before timing (and in criterion's `--test` pass) torchlet's add and sum are checked against the same
//! computed element by element (and in f64 for the sum), and against libtorch's.

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
    check(&a, &b)?;
    #[cfg(feature = "tch")]
    {
        // An f32 add rounds once, the same on both sides: equal to the bit.
        let ours = common::flat(&[a.add(&b)?])?;
        let theirs = common::flat_tch(&[&(&ta + &tb)]);
        common::assert_close("add_1e7_f32", "sum of the tensors", &ours, &theirs, 0.0, 0.0);
        // A sum of 10⁷ N(0, 1) values, each library in its own order (pairwise, blocked, threaded, SIMD
        // lanes): within SUM_TOLERANCE of each other.
        let ours = f64::from(a.sum()?.item()?);
        let theirs = ta.sum(None).double_value(&[]);
        common::assert_close("sum_1e7_f32", "the sum", &[ours], &[theirs], 0.0, SUM_TOLERANCE);
    }
    common::twin_skipped("add_1e7_f32");
    common::twin_skipped("sum_1e7_f32");

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

/// How far an f32 sum of the 10⁷ N(0, 1) values may be from another summation of them. A blocked or pairwise
/// sum errs by ~1e-4 here (measured: torchlet 1.2e-4 from the f64 sum, libtorch 2.4e-4 from torchlet); a
/// sequential sum per SIMD lane, whose partial sums reach ~10³ (ulp 6e-5) over 10⁶ additions, by up to a few
/// 1e-2. A lost or doubled element (|x| ~ 1) or block is far beyond.
const SUM_TOLERANCE: f64 = 0.1;

/// Checks torchlet's results against the same computed here: the add exact, the sum within [`SUM_TOLERANCE`]
/// of the f64 sum of the values (exact to ~1e-9).
fn check(a: &Tensor<f32>, b: &Tensor<f32>) -> Result<()> {
    let (av, bv) = (a.to_vec()?, b.to_vec()?);
    let added = a.add(b)?.to_vec()?;
    let wrong = av.iter().zip(&bv).zip(&added).position(|((x, y), z)| x + y != *z);
    assert!(wrong.is_none(), "add_1e7_f32: element {wrong:?} differs from a + b");
    let exact: f64 = av.iter().map(|&v| f64::from(v)).sum();
    let sum = f64::from(a.sum()?.item()?);
    assert!((sum - exact).abs() <= SUM_TOLERANCE, "sum_1e7_f32: {sum} differs from the f64 sum {exact}");
    eprintln!(
        "check sum_1e7_f32: {sum} vs the f64 sum {exact} (difference {:.2e}, tolerance {SUM_TOLERANCE})",
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
