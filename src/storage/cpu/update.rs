//! One-pass kernels for the in-place updates of optimizer state (`addcmul_`, `addcdiv_`, `lerp_`): each
//! element read and written once, with the same roundings, in the same order, as the passes the backend's
//! defaults take (`storage::backend`), so the two give the same bits.

use super::rows::{for_each_row, last_stride};
use super::{assign_with, vectorized, CHUNK, PARALLEL_ABOVE};
use crate::element::Element;
use crate::shape::Layout;
use crate::storage::backend::{lerp_is_small, AddcOp};
use rayon::prelude::*;

/// `x = f(x, a, b)` over the view `ld` of `dst`, `a` and `b` views of the same shape.
fn assign_with2<T: Element>(
    dst: &mut [T],
    ld: &Layout,
    [(a, la), (b, lb)]: [(&[T], &Layout); 2],
    f: impl Fn(T, T, T) -> T + Sync,
) {
    let n = ld.numel();
    if ld.is_contiguous() && la.is_contiguous() && lb.is_contiguous() {
        let d = &mut dst[ld.offset..ld.offset + n];
        let (a, b) = (&a[la.offset..la.offset + n], &b[lb.offset..lb.offset + n]);
        let assign = |d: &mut [T], a: &[T], b: &[T]| {
            vectorized(
                #[inline(always)]
                || {
                    let (a, b) = (&a[..d.len()], &b[..d.len()]);
                    for i in 0..d.len() {
                        d[i] = f(d[i], a[i], b[i]);
                    }
                },
            )
        };
        if n >= PARALLEL_ABOVE {
            let sources = a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK));
            d.par_chunks_mut(CHUNK).zip(sources).for_each(|(d, (a, b))| assign(d, a, b));
        } else {
            assign(d, a, b);
        }
        return;
    }
    let (sd, sa, sb) = (last_stride(ld), last_stride(la), last_stride(lb));
    vectorized(
        #[inline(always)]
        || {
            for_each_row(
                [ld, la, lb],
                #[inline(always)]
                |[od, oa, ob], len| {
                    for j in 0..len {
                        let x = &mut dst[od + j * sd];
                        *x = f(*x, a[oa + j * sa], b[ob + j * sb]);
                    }
                },
            )
        },
    );
}

/// `x += (value · a) op b`.
pub(super) fn addc<T: Element>(dst: &mut [T], ld: &Layout, sources: [(&[T], &Layout); 2], op: AddcOp, value: T) {
    match op {
        AddcOp::Mul => assign_with2(dst, ld, sources, |x, a, b| x + value * a * b),
        AddcOp::Div => assign_with2(dst, ld, sources, |x, a, b| x + value * a / b),
    }
}

/// `x = lerp(x, e, w)` in the form [`lerp_is_small`] picks.
pub(super) fn lerp<T: Element>(dst: &mut [T], ld: &Layout, end: &[T], le: &Layout, weight: T) {
    if lerp_is_small(weight) {
        assign_with(dst, ld, end, le, |x, e| x + (e - x) * weight);
    } else {
        let rest = T::one() - weight;
        assign_with(dst, ld, end, le, |x, e| e - (e - x) * rest);
    }
}
