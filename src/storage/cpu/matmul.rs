//! The matrix product of two strided 2-D views: a plain loop for tiny products, a kernel of its own for
//! results at most 64 columns wide (`narrow`), matrixmultiply's GEMM beyond;
//! and `addmm`, the product added onto a copy of a third view in the GEMM itself (`beta = 1`).

use super::{cache, map, narrow};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;

/// Products with at most this many multiply-adds skip the GEMM (`m * k * n`).
const SMALL_GEMM: usize = 4096;

pub(super) fn matmul<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Result<Vec<T>> {
    let (m, n) = (la.shape[0], lb.shape[1]);
    let size = m.checked_mul(n).ok_or_else(|| Error::shape("matmul", format!("a [{m}, {n}] result is too large")))?;
    let mut out = cache::take(size);
    // SAFETY: `out` is a fresh buffer with room for the m x n product, overlapping neither input; without
    // `accumulate`, `gemm_into` writes all `size` elements before any is read, so they are set by `set_len`.
    unsafe {
        gemm_into(a, la, b, lb, out.as_mut_ptr(), false)?;
        out.set_len(size);
    }
    Ok(out)
}

/// `a b + c` for 2-D views `[m, k]`, `[k, n]` and a view `c` of shape `[m, n]` (a bias broadcast over the
/// rows, say): the output starts as a copy of `c` and the GEMM adds the product to it (`beta = 1`), as
/// torch's addmm does, instead of a separate pass for the sum.
pub(super) fn addmm<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, c: &[T], lc: &Layout) -> Result<Vec<T>> {
    // The GEMM writes m x n elements into `out`, which has as many as `c`'s view: they must agree, or it
    // writes past the end. The callers check the shapes; a mismatch here is a bug in torchlet.
    assert!(
        lc.shape.len() == 2 && la.shape.len() == 2 && lb.shape.len() == 2 && lc.shape[..] == [la.shape[0], lb.shape[1]],
        "addmm: the added view has shape {:?}, the product of {:?} and {:?} does not",
        lc.shape,
        la.shape,
        lb.shape
    );
    let mut out = map(c, lc, |x| x);
    // SAFETY: `out` is a fresh, initialised buffer of `lc`'s m x n elements (asserted above), overlapping
    // neither input.
    unsafe { gemm_into(a, la, b, lb, out.as_mut_ptr(), true)? };
    Ok(out)
}

/// `out = a b`, or `out += a b` when `accumulate`, for strided 2-D views `[m, k]` and `[k, n]`, `out` the
/// contiguous m x n buffer at `c`.
///
/// # Safety
/// `c` must be valid for writes of m·n elements, and they must be initialised when `accumulate`; it must not
/// overlap `a` or `b`. Without `accumulate` every element is written, and none is read before it is.
unsafe fn gemm_into<T: Element>(a: &[T], la: &Layout, b: &[T], lb: &Layout, c: *mut T, accumulate: bool) -> Result<()> {
    // The GEMM reads k rows of B, one per column of A: a B with fewer rows is read past its view, which the
    // bounds check below (made on B's own shape) cannot see. The callers check the inner dimensions; a
    // mismatch here is a bug in torchlet.
    assert!(
        la.shape.len() == 2 && lb.shape.len() == 2 && la.shape[1] == lb.shape[0],
        "matmul: the views {:?} and {:?} reached the GEMM with unequal inner dimensions",
        la.shape,
        lb.shape
    );
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (a_rows, a_cols, b_rows, b_cols) = (la.strides[0], la.strides[1], lb.strides[0], lb.strides[1]);
    if k == 0 || m.saturating_mul(k).saturating_mul(n) <= SMALL_GEMM {
        // Below this size the GEMM's packing and dispatch cost more than the arithmetic.
        for i in 0..m {
            for j in 0..n {
                let (a0, b0) = (la.offset + i * a_rows, lb.offset + j * b_cols);
                let dot = (0..k).fold(T::zero(), |acc, p| acc + a[a0 + p * a_cols] * b[b0 + p * b_rows]);
                // SAFETY: i·n + j < m·n, inside the buffer of the contract, initialised when accumulating.
                unsafe {
                    let out = c.add(i * n + j);
                    out.write(if accumulate { dot + out.read() } else { dot });
                }
            }
        }
        return Ok(());
    }
    // Check that both views lie inside their buffers before handing raw pointers to the GEMM (with k equal
    // in both, as asserted above, these are exactly the elements it reads).
    let last = |l: &Layout| l.offset + (l.shape[0] - 1) * l.strides[0] + (l.shape[1] - 1) * l.strides[1];
    if last(la) >= a.len() || last(lb) >= b.len() {
        return Err(Error::shape("matmul", "an operand's view exceeds its storage"));
    }
    let stride = |s: usize| s as isize;
    let a_view = (a.as_ptr().wrapping_add(la.offset), stride(a_rows), stride(a_cols));
    let b_view = (b.as_ptr().wrapping_add(lb.offset), stride(b_rows), stride(b_cols));
    // SAFETY: as for the GEMM below: both views lie inside their buffers, and C is this function's.
    if unsafe { narrow::gemm((m, k, n), a_view, b_view, c, accumulate) } {
        return Ok(());
    }
    let beta = if accumulate { T::one() } else { T::zero() };
    // SAFETY: the checks above keep every strided read of A and B inside `a` and `b`; C is the contiguous
    // m x n buffer of this function's contract, which overlaps neither input and, with beta = 0, is only
    // written (matrixmultiply does not read C then).
    unsafe {
        T::gemm(m, k, n, a_view.0, a_view.1, a_view.2, b_view.0, b_view.1, b_view.2, beta, c, n as isize, 1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Views of `[rows, cols]` over a buffer of 4096 elements: far more than the views cover, so only the
    /// shape checks stand between a wrong shape and a read past the views.
    fn operand(rows: usize, cols: usize) -> (Vec<f32>, Layout) {
        (vec![1.0; 4096], Layout::contiguous(&[rows, cols]))
    }

    #[test]
    fn products_of_the_asserted_shapes_run() {
        let ((a, la), (b, lb), (c, lc)) = (operand(64, 32), operand(32, 16), operand(64, 16));
        assert_eq!(matmul(&a, &la, &b, &lb).unwrap(), vec![32.0; 64 * 16]);
        assert_eq!(addmm(&a, &la, &b, &lb, &c, &lc).unwrap(), vec![33.0; 64 * 16]);
    }

    #[test]
    #[should_panic(expected = "unequal inner dimensions")]
    fn unequal_inner_dimensions_are_a_bug_caught_before_the_gemm() {
        let ((a, la), (b, lb)) = (operand(64, 32), operand(16, 64));
        let _ = matmul(&a, &la, &b, &lb);
    }

    #[test]
    #[should_panic(expected = "addmm: the added view has shape [64, 8]")]
    fn an_added_view_of_another_shape_is_a_bug_caught_before_the_gemm() {
        let ((a, la), (b, lb), (c, lc)) = (operand(64, 32), operand(32, 16), operand(64, 8));
        let _ = addmm(&a, &la, &b, &lb, &c, &lc);
    }
}
