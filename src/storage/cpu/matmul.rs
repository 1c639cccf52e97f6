//! The matrix product of two strided 2-D views: a plain loop for tiny products, matrixmultiply's GEMM beyond.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;

/// Products with at most this many multiply-adds skip the GEMM (`m * k * n`).
const SMALL_GEMM: usize = 4096;

pub(super) fn matmul<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Result<Vec<T>> {
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    let size = m.checked_mul(n).ok_or_else(|| Error::shape("matmul", format!("a [{m}, {n}] result is too large")))?;
    let mut out = vec![T::zero(); size];
    if m == 0 || n == 0 || k == 0 {
        return Ok(out);
    }
    if m.saturating_mul(k).saturating_mul(n) <= SMALL_GEMM {
        // Below this size the GEMM's packing and dispatch cost more than the arithmetic.
        let (a_rows, a_cols, b_rows, b_cols) = (la.strides[0], la.strides[1], lb.strides[0], lb.strides[1]);
        for i in 0..m {
            for j in 0..n {
                let (a0, b0) = (la.offset + i * a_rows, lb.offset + j * b_cols);
                out[i * n + j] = (0..k).fold(T::zero(), |acc, p| acc + a[a0 + p * a_cols] * b[b0 + p * b_rows]);
            }
        }
        return Ok(out);
    }
    // Check that both views lie inside their buffers before handing raw pointers to the GEMM.
    let last = |l: &Layout| l.offset + (l.shape[0] - 1) * l.strides[0] + (l.shape[1] - 1) * l.strides[1];
    if last(la) >= a.len() || last(lb) >= b.len() {
        return Err(Error::shape("matmul", "an operand's view exceeds its storage"));
    }
    let stride = |s: usize| s as isize;
    // SAFETY: the asserts above keep every strided read of A and B inside `a` and `b`; C is the fresh,
    // contiguous m x n buffer `out`, which overlaps neither input.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            a.as_ptr().add(la.offset),
            stride(la.strides[0]),
            stride(la.strides[1]),
            b.as_ptr().add(lb.offset),
            stride(lb.strides[0]),
            stride(lb.strides[1]),
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    Ok(out)
}
