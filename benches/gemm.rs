//! Square GEMM `C = A B` at 64², 256² and 1024², f32 and f64: `Tensor::matmul` (no grad) beside
//! matrixmultiply's `sgemm`/`dgemm` called directly (the kernel torchlet's CPU storage uses, writing into a
//! preallocated `C`: the floor for torchlet) and libtorch's `matmul`.
//!
//! Both `Tensor::matmul` and libtorch allocate the result each call; the direct call does not.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use torchlet::{Element, Result, Tensor};

#[cfg(feature = "tch")]
use torchlet::tutorials::libtorch::TchElement as BenchElement;
#[cfg(not(feature = "tch"))]
use torchlet::Element as BenchElement;

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

fn bench_gemm<T: BenchElement + Gemm>(c: &mut Criterion, dtype: &str, n: usize) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let (a, b) = (Tensor::<T>::randn(&[n, n], &mut rng), Tensor::<T>::randn(&[n, n], &mut rng));
    let mut group = c.benchmark_group(format!("gemm_{dtype}_{n}"));
    group.throughput(Throughput::Elements((2 * n * n * n) as u64)); // flops
    group.bench_function("torchlet", |bench| bench.iter(|| black_box(&a).matmul(black_box(&b)).unwrap()));
    let (a_vec, b_vec) = (a.to_vec()?, b.to_vec()?);
    let mut c_vec = vec![T::zero(); n * n];
    // The direct call must agree with Tensor::matmul (same kernel, same order of operations).
    T::direct_gemm(n, n, n, &a_vec, &b_vec, &mut c_vec);
    assert!(c_vec == a.matmul(&b)?.to_vec()?, "matrixmultiply and Tensor::matmul disagree");
    group.bench_function("matrixmultiply", |bench| {
        bench.iter(|| T::direct_gemm(n, n, n, black_box(&a_vec), black_box(&b_vec), black_box(&mut c_vec)))
    });
    #[cfg(feature = "tch")]
    {
        let (a, b) = (torchlet::tutorials::libtorch::to_tch(&a)?, torchlet::tutorials::libtorch::to_tch(&b)?);
        group.bench_function("libtorch", |bench| bench.iter(|| black_box(&a).matmul(black_box(&b))));
    }
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
