//! Matrix products through cuBLAS, with row-major strided views passed by leading dimension and
//! `CUBLAS_OP_T` rather than copied, as far as cuBLAS can express them.
//!
//! cuBLAS is column-major. A row-major `C = A B` is computed as the column-major `Cᵀ = Bᵀ Aᵀ`: B goes first,
//! A second, m and n swap, and C's leading dimension is its row length n.

use super::layout::check_in_bounds;
use super::CudaStorage;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use crate::storage::backend::BackendStorage;
use crate::storage::pointwise::UnaryOp;
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::CudaSlice;
use num_traits::{One, Zero};
use std::any::Any;

const OP: &str = "matmul";

/// How one row-major `[rows, cols]` operand reaches cuBLAS: its memory read column-major with leading
/// dimension `ld` is the operand's transpose (`CUBLAS_OP_N`, a row-major view) or the operand itself
/// (`CUBLAS_OP_T`, a column-major view, e.g. `w.t()`). Either way cuBLAS then sees the transpose that
/// `Cᵀ = Bᵀ Aᵀ` needs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Operand {
    op: cublasOperation_t,
    ld: usize,
}

/// The cuBLAS form of a `[rows, cols]` view with strides `(rs, cs)`, or `None` when it is neither row- nor
/// column-major with a valid leading dimension (broadcast or otherwise gappy views), and must be copied.
///
/// cuBLAS asks `ld >= max(1, rows of the stored column-major matrix)`: `cols` for `OP_N`, `rows` for `OP_T`.
/// A dim of size 1 is never stepped over, so its stride is free and the smallest valid `ld` is used.
fn classify(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<Operand> {
    if cs == 1 || cols == 1 {
        let ld = if rows == 1 { cols.max(1) } else { rs };
        if ld >= cols.max(1) {
            return Some(Operand { op: cublasOperation_t::CUBLAS_OP_N, ld });
        }
    }
    if rs == 1 || rows == 1 {
        let ld = if cols == 1 { rows.max(1) } else { cs };
        if ld >= rows.max(1) {
            return Some(Operand { op: cublasOperation_t::CUBLAS_OP_T, ld });
        }
    }
    None
}

fn int(what: &str, v: usize) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::invalid(OP, format!("{what} = {v} exceeds cuBLAS's 32-bit limit")))
}

/// The operand as cuBLAS can read it: the view itself, or a contiguous copy of it.
fn prepare<T: Element>(s: &CudaStorage<T>, l: &Layout) -> Result<(Option<CudaStorage<T>>, Operand, usize)> {
    let (rows, cols) = (l.shape[0], l.shape[1]);
    if let Some(operand) = classify(rows, cols, l.strides[0], l.strides[1]) {
        return Ok((None, operand, l.offset));
    }
    let packed = s.unary(l, UnaryOp::Identity, T::zero())?;
    let operand = classify(rows, cols, cols, 1).expect("a contiguous view is row-major");
    Ok((Some(packed), operand, 0))
}

/// `[m, k] x [k, n] -> [m, n]` (contiguous) for two strided 2-D views on one device.
pub(super) fn matmul<T: Element>(
    a: &CudaStorage<T>,
    la: &Layout,
    b: &CudaStorage<T>,
    lb: &Layout,
) -> Result<CudaStorage<T>> {
    if la.shape.len() != 2 || lb.shape.len() != 2 || la.shape[1] != lb.shape[0] {
        return Err(Error::shape(OP, format!("shapes {:?} and {:?} cannot be multiplied", la.shape, lb.shape)));
    }
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    if m == 0 || n == 0 || k == 0 {
        // An empty result, or a sum over nothing: zeros.
        return Ok(a.derived(a.dev.alloc_zeros(m * n)?, m * n));
    }
    check_in_bounds(OP, la, a.len)?;
    check_in_bounds(OP, lb, b.len)?;
    let (a_packed, a_op, a_offset) = prepare(a, la)?;
    let (b_packed, b_op, b_offset) = prepare(b, lb)?;
    let a_data = a_packed.as_ref().map_or(&a.data, |p| &p.data);
    let b_data = b_packed.as_ref().map_or(&b.data, |p| &p.data);
    let shape = GemmShape {
        m: int("m", m)?,
        n: int("n", n)?,
        k: int("k", k)?,
        lda: int("leading dimension", b_op.ld)?,
        ldb: int("leading dimension", a_op.ld)?,
        transa: b_op.op,
        transb: a_op.op,
    };
    let blas = a.dev.blas()?;
    // cuBLAS launches on the context current on this thread: make it this device's (a tensor may be used from
    // any thread).
    let bind = a.dev.stream.context().bind_to_thread();
    bind.map_err(|e| Error::Cuda(format!("matmul: binding cuda:{}: {e}", a.dev.ordinal)))?;
    // SAFETY: cuBLAS with beta = 0 writes all m * n elements of C (m, n, k > 0) and never reads it.
    let mut out = unsafe { a.dev.alloc_uninit::<T>(m * n) }?;
    let ran = try_gemm::<T, f32>(&blas, &shape, (a_data, a_offset), (b_data, b_offset), &mut out)
        .or_else(|| try_gemm::<T, f64>(&blas, &shape, (a_data, a_offset), (b_data, b_offset), &mut out));
    match ran {
        Some(result) => result?,
        None => return Err(Error::Cuda(format!("matmul: no cuBLAS GEMM for element type {}", T::DTYPE.c_type()))),
    }
    Ok(a.derived(out, m * n))
}

/// The arguments of one row-major GEMM in cuBLAS's terms (B first).
struct GemmShape {
    m: i32,
    n: i32,
    k: i32,
    lda: i32,
    ldb: i32,
    transa: cublasOperation_t,
    transb: cublasOperation_t,
}

/// Runs the GEMM when `T` is `U` (the storage is generic, cuBLAS's `Gemm` is per type); `None` otherwise.
fn try_gemm<T: Element, U: Copy + One + Zero + 'static>(
    blas: &CudaBlas,
    s: &GemmShape,
    (a, a_offset): (&CudaSlice<T>, usize),
    (b, b_offset): (&CudaSlice<T>, usize),
    out: &mut CudaSlice<T>,
) -> Option<Result<()>>
where
    CudaBlas: Gemm<U>,
{
    let a = (a as &dyn Any).downcast_ref::<CudaSlice<U>>()?;
    let b = (b as &dyn Any).downcast_ref::<CudaSlice<U>>()?;
    let out = (out as &mut dyn Any).downcast_mut::<CudaSlice<U>>()?;
    let cfg = GemmConfig {
        transa: s.transa,
        transb: s.transb,
        // Cᵀ (n x m) = Bᵀ (n x k) · Aᵀ (k x m), column-major.
        m: s.n,
        n: s.m,
        k: s.k,
        alpha: U::one(),
        lda: s.lda,
        ldb: s.ldb,
        beta: U::zero(),
        ldc: s.n,
    };
    let (a_view, b_view) = (a.slice(a_offset..), b.slice(b_offset..));
    // SAFETY: both views were checked to lie inside their buffers (`check_in_bounds`, or a fresh contiguous
    // copy), and `classify` picked for each an operation and a leading dimension under which cuBLAS reads
    // exactly the view's elements (ld >= the stored matrix's rows, as cuBLAS requires). `out` is a distinct,
    // fresh buffer of m * n elements written with ldc = n. All run on the device's one stream, which the
    // handle was created with.
    let result = unsafe { blas.gemm(cfg, &b_view, &a_view, out) };
    Some(result.map_err(|e| Error::Cuda(format!("matmul: cuBLAS GEMM failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cublasOperation_t::{CUBLAS_OP_N as N, CUBLAS_OP_T as T};

    #[test]
    fn row_major_views_pass_untransposed() {
        assert_eq!(classify(2, 3, 3, 1), Some(Operand { op: N, ld: 3 }));
        // A block of columns of a wider matrix keeps the full row length as ld.
        assert_eq!(classify(2, 3, 10, 1), Some(Operand { op: N, ld: 10 }));
        // A single row: its row stride is never used.
        assert_eq!(classify(1, 4, 0, 1), Some(Operand { op: N, ld: 4 }));
        assert_eq!(classify(1, 1, 7, 9), Some(Operand { op: N, ld: 1 }));
    }

    #[test]
    fn column_major_views_pass_as_op_t() {
        // The transpose of a contiguous [3, 2] matrix is a [2, 3] view with strides (1, 2).
        assert_eq!(classify(2, 3, 1, 2), Some(Operand { op: T, ld: 2 }));
        // A column vector seen as [k, 1] from a strided column.
        assert_eq!(classify(5, 1, 4, 0), Some(Operand { op: N, ld: 4 }));
        // A row [1, k] taken across a column-major matrix.
        assert_eq!(classify(1, 4, 3, 5), Some(Operand { op: T, ld: 5 }));
    }

    #[test]
    fn broadcast_or_gappy_views_are_copied() {
        // Expanded rows (row stride 0).
        assert_eq!(classify(3, 4, 0, 1), None);
        // Both strides > 1.
        assert_eq!(classify(3, 4, 8, 2), None);
        // Overlapping rows.
        assert_eq!(classify(3, 4, 2, 1), None);
    }

    #[test]
    fn errors_do_not_hide_the_fault() {
        assert!(int("m", usize::MAX).unwrap_err().to_string().contains("32-bit"));
    }
}
