//! im2col and col2im on the CPU (see [`crate::storage::window`] for the column layout).
//!
//! Both work on whole runs of one output row: the windows whose tap reads inside the input are a range
//! ([`Axis::inside`], worked out once per tap), so the padding is filled (or skipped) once per run and the
//! inside is a plain strided copy or sum, a slice copy with stride 1. Large jobs are split on rayon's
//! threads by column-matrix row (im2col) or by input plane (col2im); each output element is written by one
//! task, and col2im adds the taps into an entry in one fixed order (tap by tap, as torch's col2im), so
//! results do not depend on the threads.

use super::PARALLEL_ABOVE;
use crate::element::Element;
use crate::shape::Layout;
use crate::storage::simd::vectorized;
use crate::storage::window::{Axis, Windows};
use rayon::prelude::*;

/// Per tap of one axis: the windows `lo..hi` that read inside the input, and the entry window `lo` reads.
fn ranges(axis: &Axis) -> Vec<(usize, usize, usize)> {
    (0..axis.kernel).map(|k| axis.inside(k)).collect()
}

/// The column matrix `[C·kh·kw, N·OH·OW]` of the view `layout` (`[N, C, H, W]`) of `x`, `pad` in the
/// padding.
pub(super) fn im2col<T: Element>(x: &[T], layout: &Layout, g: &Windows, pad: T) -> Vec<T> {
    let [rows, cols] = g.columns_shape();
    let mut out = vec![pad; rows * cols];
    if out.is_empty() {
        return out;
    }
    let [sn, sc, sh, sw] = [0, 1, 2, 3].map(|d| layout.strides[d]);
    let [h, w] = g.axes;
    let (taps, positions) = (g.taps(), g.positions());
    let (h_ranges, w_ranges) = (ranges(&h), ranges(&w));
    let fill_row = |r: usize, row: &mut [T]| {
        let (c, tap) = (r / taps, r % taps);
        let ((oh_lo, oh_hi, ih0), (lo, hi, iw0)) = (h_ranges[tap / w.kernel], w_ranges[tap % w.kernel]);
        if lo == hi {
            return;
        }
        let step = w.stride * sw;
        for (b, image) in row.chunks_exact_mut(positions).enumerate() {
            for oh in oh_lo..oh_hi {
                let run = &mut image[oh * w.out + lo..oh * w.out + hi];
                let ih = ih0 + (oh - oh_lo) * h.stride;
                let base = layout.offset + b * sn + c * sc + ih * sh + iw0 * sw;
                if step == 1 {
                    run.copy_from_slice(&x[base..base + run.len()]);
                } else {
                    for (i, v) in run.iter_mut().enumerate() {
                        *v = x[base + i * step];
                    }
                }
            }
        }
    };
    if out.len() < PARALLEL_ABOVE {
        vectorized(|| out.chunks_exact_mut(cols).enumerate().for_each(|(r, row)| fill_row(r, row)));
    } else {
        out.par_chunks_exact_mut(cols).enumerate().for_each(|(r, row)| vectorized(|| fill_row(r, row)));
    }
    out
}

/// The input-shaped `[N, C, H, W]` sum of the contiguous column matrix `columns`: each entry added to the
/// input entry its tap read, the padding's dropped.
///
/// Each plane is summed in a padded scratch plane that every tap of every window lands in, so that each
/// run of a row is a whole output row, with no clipping (the runs are short, and clipped ones would leave
/// the vector loop mostly for its scalar tail); the inside is then copied out.
pub(super) fn col2im<T: Element>(columns: &[T], g: &Windows) -> Vec<T> {
    let [h, w] = g.axes;
    let plane = h.size * w.size;
    let mut out = vec![T::zero(); g.batch * g.channels * plane];
    if out.is_empty() || g.positions() == 0 {
        return out;
    }
    let scratch_len = padded_extent(&h) * padded_extent(&w);
    if columns.len() < PARALLEL_ABOVE {
        let mut scratch = vec![T::zero(); scratch_len];
        vectorized(|| {
            for (p, dst) in out.chunks_exact_mut(plane).enumerate() {
                sum_plane(columns, g, p, dst, &mut scratch);
            }
        });
    } else {
        out.par_chunks_exact_mut(plane).enumerate().for_each_init(
            || vec![T::zero(); scratch_len],
            |scratch, (p, dst)| vectorized(|| sum_plane(columns, g, p, dst, scratch)),
        );
    }
    out
}

/// The padded positions the windows' taps reach along an axis: `(out − 1)·stride + (kernel − 1)·dilation + 1`.
fn padded_extent(axis: &Axis) -> usize {
    (axis.out - 1) * axis.stride + (axis.kernel - 1) * axis.dilation + 1
}

/// col2im of plane `p` (image `p / C`, channel `p % C`, whose taps are rows `c·taps .. (c + 1)·taps`) into
/// `dst`, through `scratch`.
#[inline(always)]
fn sum_plane<T: Element>(columns: &[T], g: &Windows, p: usize, dst: &mut [T], scratch: &mut [T]) {
    let [h, w] = g.axes;
    let (taps, positions, cols) = (g.taps(), g.positions(), g.columns_shape()[1]);
    let (b, c) = (p / g.channels, p % g.channels);
    let width = padded_extent(&w);
    scratch.fill(T::zero());
    for tap in 0..taps {
        let (kh, kw) = (tap / w.kernel, tap % w.kernel);
        let image = &columns[(c * taps + tap) * cols + b * positions..][..positions];
        for (oh, run) in image.chunks_exact(w.out).enumerate() {
            let at = &mut scratch[(oh * h.stride + kh * h.dilation) * width + kw * w.dilation..];
            if w.stride == 1 {
                for (d, &v) in at[..run.len()].iter_mut().zip(run) {
                    *d = *d + v;
                }
            } else {
                for (i, &v) in run.iter().enumerate() {
                    at[i * w.stride] = at[i * w.stride] + v;
                }
            }
        }
    }
    // The input sits at padded row ih + pad_h, column iw + pad_w; entries past the taps' reach stay 0.
    let cols_in = w.size.min(width.saturating_sub(w.pad_left));
    for (ih, row) in dst.chunks_exact_mut(w.size).enumerate() {
        let r = ih + h.pad_left;
        if r >= padded_extent(&h) {
            break;
        }
        row[..cols_in].copy_from_slice(&scratch[r * width + w.pad_left..][..cols_in]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Geometries with every kind of window: strides, dilations, paddings, kernels wider than the input
    /// with padding, 1-D (height 1), windows past the last input entry, and a single window.
    fn geometries() -> Vec<Windows> {
        let axis = |size, kernel, stride, dilation, pad_left, pad_right| {
            let span = dilation * (kernel - 1) + 1;
            Axis { size, kernel, stride, dilation, pad_left, out: (size + pad_left + pad_right - span) / stride + 1 }
        };
        vec![
            Windows { batch: 2, channels: 3, axes: [axis(5, 3, 1, 1, 1, 1), axis(4, 3, 1, 1, 1, 1)] },
            Windows { batch: 1, channels: 2, axes: [axis(7, 3, 2, 2, 2, 2), axis(6, 2, 3, 1, 0, 1)] },
            Windows { batch: 3, channels: 1, axes: [axis(1, 1, 1, 1, 0, 0), axis(9, 4, 2, 1, 1, 2)] },
            Windows { batch: 2, channels: 2, axes: [axis(2, 3, 1, 1, 1, 1), axis(2, 3, 1, 2, 2, 2)] },
            Windows { batch: 1, channels: 1, axes: [axis(3, 3, 1, 1, 0, 0), axis(3, 3, 1, 1, 0, 0)] },
        ]
    }

    /// The column matrix from its definition: entry `((c, i, j), (b, y, x))` is `x[b, c, ih, iw]` for the input
    /// entry tap `(i, j)` of window `(y, x)` reads, or `pad`.
    fn reference_im2col(x: &[f64], layout: &Layout, g: &Windows, pad: f64) -> Vec<f64> {
        let [h, w] = g.axes;
        let mut out = Vec::new();
        for c in 0..g.channels {
            for (i, j) in (0..h.kernel).flat_map(|i| (0..w.kernel).map(move |j| (i, j))) {
                for b in 0..g.batch {
                    for (y, xo) in (0..h.out).flat_map(|y| (0..w.out).map(move |xo| (y, xo))) {
                        out.push(match h.input_at(y, i).zip(w.input_at(xo, j)) {
                            Some((ih, iw)) => {
                                let s = &layout.strides;
                                x[layout.offset + b * s[0] + c * s[1] + ih * s[2] + iw * s[3]]
                            }
                            None => pad,
                        });
                    }
                }
            }
        }
        out
    }

    /// Small whole numbers, so that every sum is exact whatever its order.
    fn values(n: usize, seed: usize) -> Vec<f64> {
        (0..n).map(|k| ((k * 7919 + seed * 104_729) % 23) as f64 - 11.0).collect()
    }

    #[test]
    fn im2col_reads_each_tap_of_each_window_of_a_strided_view() {
        for g in geometries() {
            let [n, c, h, w] = g.input_shape();
            // The input as a view with its channel and batch dims swapped in memory, at an offset.
            let base = Layout::contiguous(&[c, n, h, w]);
            let mut layout = base.transpose(0, 1);
            layout.offset = 3;
            let x = values(3 + n * c * h * w, 1);
            for pad in [0.0, f64::NEG_INFINITY] {
                assert_eq!(im2col(&x, &layout, &g, pad), reference_im2col(&x, &layout, &g, pad), "{g:?}");
            }
        }
    }

    /// col2im is im2col's adjoint: `⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩` for every x and y; with unit vectors
    /// x this pins every entry of col2im(y).
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        for g in geometries() {
            let [rows, cols] = g.columns_shape();
            let y = values(rows * cols, 2);
            let folded = col2im(&y, &g);
            let shape = g.input_shape();
            let layout = Layout::contiguous(&shape);
            for (k, &got) in folded.iter().enumerate() {
                let mut unit = vec![0.0; folded.len()];
                unit[k] = 1.0;
                let want: f64 = im2col(&unit, &layout, &g, 0.0).iter().zip(&y).map(|(a, b)| a * b).sum();
                assert_eq!(got, want, "{g:?}, input entry {k}");
            }
        }
    }

    /// A job large enough for the threads: both kernels against their definitions.
    #[test]
    fn large_jobs_split_across_threads_give_the_same_results() {
        let axis = Axis { size: 16, kernel: 3, stride: 1, dilation: 1, pad_left: 1, out: 16 };
        let g = Windows { batch: 16, channels: 8, axes: [axis, axis] };
        let [rows, cols] = g.columns_shape();
        assert!(rows * cols >= PARALLEL_ABOVE);
        let layout = Layout::contiguous(&g.input_shape());
        let x = values(layout.numel(), 3);
        assert_eq!(im2col(&x, &layout, &g, 0.0), reference_im2col(&x, &layout, &g, 0.0));
        // col2im by its definition: each column entry added where its tap read, in tap order.
        let y = values(rows * cols, 4);
        let mut want = vec![0.0; layout.numel()];
        for (r, row) in y.chunks_exact(cols).enumerate() {
            let (c, i, j) = (r / g.taps(), r % g.taps() / 3, r % 3);
            for (col, &v) in row.iter().enumerate() {
                let (b, yo, xo) = (col / g.positions(), col % g.positions() / 16, col % 16);
                if let Some((ih, iw)) = axis.input_at(yo, i).zip(axis.input_at(xo, j)) {
                    want[((b * 8 + c) * 16 + ih) * 16 + iw] += v;
                }
            }
        }
        assert_eq!(col2im(&y, &g), want);
    }
}
