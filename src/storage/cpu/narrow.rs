//! The matrix product for results at most [`MAX_WIDTH`] columns wide: a small model's layers (`[128, 64]` by
//! `[64, 32]`) and their gradients. matrixmultiply packs both operands on every call, and at these sizes each
//! packed element feeds only a few dozen multiply-adds, so its packing costs as much as its arithmetic. Here
//! only B is packed (k x n, zero-padded to whole vectors: a few KiB), A is read in place through its strides,
//! and a tile of C of [`ROWS`] rows by two vectors stays in registers over the whole inner dimension.
//!
//! AVX2 with FMA only, chosen by what the CPU has, as matrixmultiply chooses its kernels (not by
//! `torchlet::cpu::set_isa`, which picks the build of torchlet's elementwise kernels); elsewhere the caller
//! falls back to matrixmultiply. Each element of C is one FMA chain over the inner dimension, in order, from
//! zero, added to C's old value when accumulating: the same whichever thread or tile computes it.

use super::cache;
use rayon::prelude::*;

/// The widest result this kernel computes.
pub(super) const MAX_WIDTH: usize = 64;

/// The rows of C in one register tile: 6 rows by 2 vectors is 12 accumulators, plus 2 vectors of B and one
/// broadcast element of A, within the 16 vector registers of AVX2.
const ROWS: usize = 6;

/// Products with at least this many multiply-adds split their rows over rayon's threads.
const PARALLEL_ABOVE: usize = 1 << 21;

/// The most elements packed B may have (4 MiB of f32): beyond, matrixmultiply's blocking serves better.
const MAX_PACKED: usize = 1 << 20;

/// One product's operands, shared by the threads that compute its rows.
pub struct Product<T> {
    k: usize,
    n: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    /// B packed row by row, `padded` elements per row (zeros past `n`).
    packed: *const T,
    padded: usize,
    c: *mut T,
    accumulate: bool,
}

// SAFETY: a `Product` is only read while `gemm` waits for every task: A and packed B are read, never written,
// and each task writes only its own rows of C.
unsafe impl<T: Sync> Sync for Product<T> {}

/// An element type with a narrow kernel (`f32`, `f64`).
pub trait NarrowGemm: cache::Cached + Default + Send + Sync {
    /// The elements in one AVX2 vector.
    const LANES: usize;

    /// Computes rows `start..end` of the product.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA, and `p` must describe valid operands (see [`gemm`]) with
    /// `end` at most m.
    unsafe fn rows(p: &Product<Self>, start: usize, end: usize);
}

/// Whether the CPU runs this kernel.
fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::storage::simd::has_avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `c = a b`, or `c += a b` when `accumulate`, for strided `[m, k]` and `[k, n]` views at `a` and `b` and the
/// contiguous m x n buffer at `c`; returns false, having touched nothing, where this kernel does not apply
/// (a result wider than [`MAX_WIDTH`], a B too large to pack, a CPU without AVX2 and FMA).
///
/// # Safety
/// The views must lie inside their buffers; `c` must be valid for writes of m·n elements, initialised when
/// `accumulate`, and overlap neither input.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<T: NarrowGemm>(
    (m, k, n): (usize, usize, usize),
    (a, rsa, csa): (*const T, isize, isize),
    (b, rsb, csb): (*const T, isize, isize),
    c: *mut T,
    accumulate: bool,
) -> bool {
    let padded = n.div_ceil(T::LANES) * T::LANES;
    if n == 0 || n > MAX_WIDTH || k.saturating_mul(padded) > MAX_PACKED || !available() {
        return false;
    }
    let mut packed = cache::take::<T>(k * padded);
    packed.resize(k * padded, T::default());
    // SAFETY: q < k and j < n address an element of B's view, inside its buffer by the contract.
    let b_at = |q: usize, j: usize| unsafe { *b.offset(q as isize * rsb + j as isize * csb) };
    if csb == 1 || rsb != 1 {
        // Row by row: a copy of each contiguous row when B's rows are contiguous.
        for (q, row) in packed.chunks_exact_mut(padded).enumerate() {
            for (j, x) in row[..n].iter_mut().enumerate() {
                *x = b_at(q, j);
            }
        }
    } else {
        // B is a transposed view (a weight `[n, k]` read as `[k, n]`): read its columns, which are contiguous.
        for j in 0..n {
            for q in 0..k {
                packed[q * padded + j] = b_at(q, j);
            }
        }
    }
    let product = Product { k, n, a, rsa, csa, packed: packed.as_ptr(), padded, c, accumulate };
    let product = &product;
    if m.saturating_mul(k).saturating_mul(n) < PARALLEL_ABOVE {
        // SAFETY: `available()` found AVX2 and FMA; the operands are this function's, valid by its contract.
        unsafe { T::rows(product, 0, m) };
    } else {
        let tasks = 2 * rayon::current_num_threads();
        let step = m.div_ceil(tasks).next_multiple_of(ROWS);
        (0..m.div_ceil(step)).into_par_iter().for_each(|task| {
            let (start, end) = (task * step, ((task + 1) * step).min(m));
            // SAFETY: as above; the tasks' row ranges are disjoint, so no two write the same element of C.
            unsafe { T::rows(product, start, end) };
        });
    }
    cache::give(packed);
    true
}

/// The kernel for one element type, written once over its AVX2 intrinsics.
macro_rules! narrow_kernel {
    ($t:ty, $module:ident, $lanes:expr, $zero:ident, $splat:ident, $load:ident, $store:ident, $fma:ident, $add:ident) => {
        #[cfg(target_arch = "x86_64")]
        mod $module {
            use super::{Product, ROWS};
            use std::arch::x86_64::*;

            const LANES: usize = $lanes;

            /// Rows `start..end` of C, strip by strip of two vectors' width (one at the end if that is all
            /// that is left).
            ///
            /// # Safety
            /// As `NarrowGemm::rows`.
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn rows(p: &Product<$t>, start: usize, end: usize) {
                let mut j = 0;
                while j < p.padded {
                    // SAFETY: j and j + the strip's width lie within B's padded rows; the rows are the caller's.
                    unsafe {
                        if p.padded - j >= 2 * LANES {
                            strip::<2>(p, j, start, end);
                            j += 2 * LANES;
                        } else {
                            strip::<1>(p, j, start, end);
                            j += LANES;
                        }
                    }
                }
            }

            /// One strip of `V` vectors' width from column `j`, in tiles of [`ROWS`] rows and one of the rest.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn strip<const V: usize>(p: &Product<$t>, j: usize, start: usize, end: usize) {
                let mut i = start;
                // SAFETY: every tile's rows lie in start..end, its columns in the strip.
                unsafe {
                    while i + ROWS <= end {
                        tile::<ROWS, V>(p, i, j);
                        i += ROWS;
                    }
                    match end - i {
                        1 => tile::<1, V>(p, i, j),
                        2 => tile::<2, V>(p, i, j),
                        3 => tile::<3, V>(p, i, j),
                        4 => tile::<4, V>(p, i, j),
                        5 => tile::<5, V>(p, i, j),
                        _ => {}
                    }
                }
            }

            /// Rows `i..i + R` by columns `j..j + V·LANES` of C (those below n written), summed in registers.
            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn tile<const R: usize, const V: usize>(p: &Product<$t>, i: usize, j: usize) {
                let mut acc = [[$zero(); V]; R];
                // SAFETY: rows i..i + R of A's view, columns 0..k, and rows 0..k of packed B from column j for
                // V vectors, lie inside their buffers; C's rows i..i + R are the caller's, with columns j..j +
                // `width` below n.
                unsafe {
                    let a = p.a.offset(i as isize * p.rsa);
                    let b = p.packed.add(j);
                    for q in 0..p.k {
                        let mut bq = [$zero(); V];
                        for v in 0..V {
                            bq[v] = $load(b.add(q * p.padded + v * LANES));
                        }
                        let aq = a.offset(q as isize * p.csa);
                        for r in 0..R {
                            let x = $splat(*aq.offset(r as isize * p.rsa));
                            for v in 0..V {
                                acc[r][v] = $fma(x, bq[v], acc[r][v]);
                            }
                        }
                    }
                    let width = (p.n - j).min(V * LANES);
                    for r in 0..R {
                        let row = p.c.add((i + r) * p.n + j);
                        if width == V * LANES {
                            for v in 0..V {
                                let sum =
                                    if p.accumulate { $add(acc[r][v], $load(row.add(v * LANES))) } else { acc[r][v] };
                                $store(row.add(v * LANES), sum);
                            }
                        } else {
                            let mut spill = [0.0; 2 * LANES];
                            for v in 0..V {
                                $store(spill.as_mut_ptr().add(v * LANES), acc[r][v]);
                            }
                            for (t, &sum) in spill[..width].iter().enumerate() {
                                let out = row.add(t);
                                out.write(if p.accumulate { sum + out.read() } else { sum });
                            }
                        }
                    }
                }
            }
        }

        impl NarrowGemm for $t {
            const LANES: usize = $lanes;

            unsafe fn rows(p: &Product<Self>, start: usize, end: usize) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded from this function's contract, which requires AVX2 and FMA.
                unsafe {
                    $module::rows(p, start, end)
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    let _ = (p, start, end);
                    unreachable!("the narrow kernel runs only where `available()` finds AVX2, on x86-64")
                }
            }
        }
    };
}

narrow_kernel!(
    f32,
    kernel_f32,
    8,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps
);
narrow_kernel!(
    f64,
    kernel_f64,
    4,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd
);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A strided `[rows, cols]` view into a random buffer: transposed when `transposed`, with a gap after each
    /// row or column and an offset, so that the kernel must follow the strides.
    fn view(rng: &mut impl Rng, rows: usize, cols: usize, transposed: bool) -> (Vec<f64>, usize, isize, isize) {
        let (outer, inner) = if transposed { (cols, rows) } else { (rows, cols) };
        let (offset, lead) = (3, inner + 2);
        let data = (0..offset + outer * lead).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (rs, cs) = if transposed { (1, lead as isize) } else { (lead as isize, 1) };
        (data, offset, rs, cs)
    }

    /// Shapes cover every tile height, one- and two-vector strips, an empty inner dimension, and (the last)
    /// a product large enough to split its rows over threads.
    fn check<T: NarrowGemm + num_traits::Float + Into<f64>>(tolerance: f64) {
        if !available() {
            eprintln!("NOTE: this CPU has no AVX2 with FMA: the narrow GEMM kernel is not tested here");
            return;
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for &(m, k, n) in &[
            (1, 1, 1),
            (5, 3, 7),
            (6, 64, 16),
            (13, 33, 10),
            (128, 64, 32),
            (31, 128, 64),
            (7, 2, 63),
            (4, 0, 5),
            (1000, 64, 33),
        ] {
            for (ta, tb, accumulate) in
                [(false, false, false), (true, false, true), (false, true, false), (true, true, true)]
            {
                let (a, ao, rsa, csa) = view(&mut rng, m, k, ta);
                let (b, bo, rsb, csb) = view(&mut rng, k, n, tb);
                let old: Vec<f64> = (0..m * n).map(|_| rng.random_range(-1.0..1.0)).collect();
                let cast = |v: &[f64]| v.iter().map(|&x| T::from(x).unwrap()).collect::<Vec<T>>();
                let (at, bt, mut c) = (cast(&a), cast(&b), cast(&old));
                // SAFETY: the views lie inside their buffers by construction, and `c` has m·n elements.
                let ran = unsafe {
                    gemm(
                        (m, k, n),
                        (at.as_ptr().add(ao), rsa, csa),
                        (bt.as_ptr().add(bo), rsb, csb),
                        c.as_mut_ptr(),
                        accumulate,
                    )
                };
                assert!(ran, "{m}x{k}x{n}: the kernel declined a narrow product");
                for i in 0..m {
                    for j in 0..n {
                        let at = |q: usize| at[(ao as isize + i as isize * rsa + q as isize * csa) as usize].into();
                        let bt = |q: usize| bt[(bo as isize + q as isize * rsb + j as isize * csb) as usize].into();
                        let base = if accumulate { T::from(old[i * n + j]).unwrap().into() } else { 0.0 };
                        let expected = base + (0..k).map(|q| at(q) * bt(q)).sum::<f64>();
                        let got: f64 = c[i * n + j].into();
                        assert!(
                            (got - expected).abs() <= tolerance * (k as f64 + 1.0),
                            "{m}x{k}x{n} ({ta}, {tb}, {accumulate}) at [{i}, {j}]: {got} against {expected}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn narrow_products_match_a_reference_over_strided_views() {
        check::<f32>(1e-6);
        check::<f64>(1e-15);
    }

    #[test]
    fn wide_products_are_left_to_the_caller() {
        let mut c = [0.0f32; 65];
        let (a, b) = ([1.0f32; 1], [1.0f32; 65]);
        // SAFETY: the views are the whole arrays; `c` has 1 x 65 elements.
        let ran = unsafe { gemm((1, 1, 65), (a.as_ptr(), 1, 1), (b.as_ptr(), 65, 1), c.as_mut_ptr(), false) };
        assert!(!ran);
        assert_eq!(c, [0.0; 65], "a declined product must leave C alone");
    }
}
