//! Square GEMM `C = A B` at 64², 256² and 1024², f32 and f64, three ways:
//!
//! * `torchlet`: `Tensor::matmul` (no grad), which allocates its result;
//! * `matrixmultiply`: matrixmultiply's `sgemm`/`dgemm` called directly on plain slices, writing into a `C`
//!   allocated once outside the timing: the kernel alone, the floor for `Tensor::matmul` on the CPU;
//! * `libtorch`: `matmul` on tch tensors, which allocates its result.
//!
//! Before timing (and in criterion's `--test` pass) both products are checked against the direct call within
//! the rounding bound `k·eps·|A||B|`, so the check holds whatever kernel or summation order each side uses.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::{Element, Result, Tensor};

#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;
#[cfg(feature = "tch")]
use torchlet_tutorials::libtorch::TchElement as BenchElement;

/// matrixmultiply's GEMM for one element type.
trait Gemm: Element {
    /// `c = a b` for row-major `a [m, k]`, `b [k, n]`, `c [m, n]`.
    fn direct_gemm(m: usize, k: usize, n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
}

macro_rules! impl_gemm {
    ($t:ty, $f:path) => {
        impl Gemm for $t {
            fn direct_gemm(m: usize, k: usize, n: usize, a: &[$t], b: &[$t], c: &mut [$t]) {
                assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n, "GEMM operand sizes");
                // SAFETY: the asserts above make every operand exactly as long as its dense row-major
                // layout requires (row stride = columns, column stride = 1), so each access the kernel makes
                // is in bounds; `c` is a unique borrow, so it aliases neither `a` nor `b`.
                unsafe {
                    $f(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b.as_ptr(),
                        n as isize,
                        1,
                        0.0,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                }
            }
        }
    };
}

impl_gemm!(f32, matrixmultiply::sgemm);
impl_gemm!(f64, matrixmultiply::dgemm);

/// Fails unless `c` is `a b` up to rounding: `|c - reference| <= k eps (|a| |b|)` element by element, the
/// sum of two worst-case rounding errors of a length-`k` dot product (each at most `k (eps/2) (|a| |b|)`),
/// whatever order of summation either side uses.
fn assert_product<T: Element + Gemm>(what: &str, n: usize, c: &[T], reference: &[T], abs_product: &[T]) {
    let bound = T::epsilon() * T::from_usize(n).expect("n fits");
    let worst = c
        .iter()
        .zip(reference)
        .zip(abs_product)
        .map(|((&x, &r), &p)| ((x - r).abs() / (bound * p)).to_f64().unwrap_or(f64::NAN))
        .fold(0.0, f64::max);
    assert!(
        worst <= 1.0 && c.iter().all(|x| x.is_finite()),
        "gemm {n}: {what} differs from the reference product beyond k·eps·|A||B| (by {worst:e} times the bound)"
    );
    eprintln!("parity gemm {n}: {what} agrees with matrixmultiply's direct product, within {worst:.2e} of the bound k·eps·|A||B|");
}

fn bench_gemm<T: BenchElement + Gemm>(c: &mut Criterion, dtype: &str, n: usize) -> Result<()> {
    let name = format!("gemm_{dtype}_{n}");
    let mut rng = StdRng::seed_from_u64(n as u64);
    let (a, b) = (Tensor::<T>::randn_with(&[n, n], &mut rng), Tensor::<T>::randn_with(&[n, n], &mut rng));
    let (a_vec, b_vec) = (a.to_vec()?, b.to_vec()?);
    // The reference: matrixmultiply called directly, and the bound on rounding from |A| |B|.
    let mut c_vec = vec![T::zero(); n * n];
    T::direct_gemm(n, n, n, &a_vec, &b_vec, &mut c_vec);
    let mut abs_product = vec![T::zero(); n * n];
    let abs = |v: &[T]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    T::direct_gemm(n, n, n, &abs(&a_vec), &abs(&b_vec), &mut abs_product);
    assert_product("Tensor::matmul", n, &a.matmul(&b)?.to_vec()?, &c_vec, &abs_product);
    #[cfg(feature = "tch")]
    let (ta, tb) = {
        use torchlet_tutorials::libtorch::{from_tch, to_tch};
        let (ta, tb) = (to_tch(&a)?, to_tch(&b)?);
        assert_product("libtorch's matmul", n, &from_tch::<T>(&ta.matmul(&tb))?.to_vec()?, &c_vec, &abs_product);
        (ta, tb)
    };
    common::twin_skipped(&name);

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements((2 * n * n * n) as u64)); // flops
    group.bench_function("torchlet", |bench| bench.iter(|| black_box(&a).matmul(black_box(&b)).unwrap()));
    group.bench_function("matrixmultiply", |bench| {
        bench.iter(|| T::direct_gemm(n, n, n, black_box(&a_vec), black_box(&b_vec), black_box(&mut c_vec)))
    });
    #[cfg(feature = "tch")]
    group.bench_function("libtorch", |bench| bench.iter(|| black_box(&ta).matmul(black_box(&tb))));
    group.finish();
    Ok(())
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    for n in [64, 256, 1024] {
        bench_gemm::<f32>(c, "f32", n).expect("GEMM benchmark failed");
        bench_gemm::<f64>(c, "f64", n).expect("GEMM benchmark failed");
    }
}

criterion_group! {
    name = gemm;
    config = common::criterion();
    targets = benches
}
criterion_main!(gemm);
