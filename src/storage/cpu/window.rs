//! im2col and col2im on the CPU (see [`crate::storage::window`] for the column layout).
//!
//! Both go through a padded, channels-last copy of one image, `[reach_h, reach_w, C]`, so that every tap of
//! every window is a run of `C` contiguous values there and in the column matrix (`kw·C` with dilation 1):
//! im2col fills it (the padding with `pad`) and copies runs out; col2im adds runs in, tap by tap in order
//! (torch's col2im order), and copies the inside back to `[C, H, W]`. Images are split across rayon's
//! threads when the job is large; each writes only its own rows and plane, so results do not depend on
//! the threads.

use super::PARALLEL_ABOVE;
use crate::element::Element;
use crate::shape::Layout;
use crate::storage::simd::vectorized;
use crate::storage::window::Windows;
use rayon::prelude::*;

/// The column matrix `[N·OH·OW, kh·kw·C]` of the view `layout` (`[N, C, H, W]`) of `x`, `pad` in the
/// padding.
pub(super) fn im2col<T: Element>(x: &[T], layout: &Layout, g: &Windows, pad: T) -> Vec<T> {
    let [rows, width] = g.columns_shape();
    let mut out = vec![pad; rows * width];
    let per_image = g.positions() * width;
    if out.is_empty() || per_image == 0 {
        return out;
    }
    let scratch_len = g.axes[0].reach() * g.axes[1].reach() * g.channels;
    if out.len() < PARALLEL_ABOVE {
        let mut scratch = vec![pad; scratch_len];
        vectorized(|| {
            for (b, rows) in out.chunks_exact_mut(per_image).enumerate() {
                channels_last(x, layout, g, b, pad, &mut scratch);
                gather_windows(g, &scratch, rows);
            }
        });
    } else {
        out.par_chunks_exact_mut(per_image).enumerate().for_each_init(
            || vec![pad; scratch_len],
            |scratch, (b, rows)| {
                vectorized(|| {
                    channels_last(x, layout, g, b, pad, scratch);
                    gather_windows(g, scratch, rows);
                })
            },
        );
    }
    out
}

/// Image `b` of the view into `scratch`, padded and channels last; the padding is `pad`.
#[inline(always)]
fn channels_last<T: Element>(x: &[T], layout: &Layout, g: &Windows, b: usize, pad: T, scratch: &mut [T]) {
    let [h, w] = g.axes;
    let (reach_h, reach_w, channels) = (h.reach(), w.reach(), g.channels);
    let [sn, sc, sh, sw] = [0, 1, 2, 3].map(|d| layout.strides[d]);
    scratch.fill(pad);
    // The input rows and columns the windows reach.
    let (rows, cols) = (h.size.min(reach_h.saturating_sub(h.pad_left)), w.size.min(reach_w.saturating_sub(w.pad_left)));
    for c in 0..channels {
        for ih in 0..rows {
            let src = layout.offset + b * sn + c * sc + ih * sh;
            let dst = ((ih + h.pad_left) * reach_w + w.pad_left) * channels + c;
            for iw in 0..cols {
                scratch[dst + iw * channels] = x[src + iw * sw];
            }
        }
    }
}

/// Every window of one padded, channels-last image as rows of the column matrix.
#[inline(always)]
fn gather_windows<T: Element>(g: &Windows, scratch: &[T], rows: &mut [T]) {
    let [h, w] = g.axes;
    let (reach_w, channels, width) = (w.reach(), g.channels, g.columns_shape()[1]);
    // With dilation 1 a window row's taps are one run of kw·C values.
    let (run, runs) = if w.dilation == 1 { (w.kernel * channels, 1) } else { (channels, w.kernel) };
    for (p, row) in rows.chunks_exact_mut(width).enumerate() {
        let (y, xo) = (p / w.out, p % w.out);
        for i in 0..h.kernel {
            let line = (y * h.stride + i * h.dilation) * reach_w;
            for j in 0..runs {
                let from = (line + xo * w.stride + j * w.dilation) * channels;
                let to = (i * w.kernel + j) * channels;
                row[to..to + run].copy_from_slice(&scratch[from..from + run]);
            }
        }
    }
}

/// The input-shaped `[N, C, H, W]` sum of the contiguous column matrix `columns`: each entry added to the
/// input entry its tap read, the padding's dropped.
pub(super) fn col2im<T: Element>(columns: &[T], g: &Windows) -> Vec<T> {
    let [h, w] = g.axes;
    let plane = g.channels * h.size * w.size;
    let mut out = vec![T::zero(); g.batch * plane];
    let per_image = g.positions() * g.columns_shape()[1];
    if out.is_empty() || per_image == 0 {
        return out;
    }
    let scratch_len = h.reach() * w.reach() * g.channels;
    let image = |b: usize| &columns[b * per_image..][..per_image];
    if columns.len() < PARALLEL_ABOVE {
        let mut scratch = vec![T::zero(); scratch_len];
        vectorized(|| {
            for (b, dst) in out.chunks_exact_mut(plane).enumerate() {
                scatter_windows(g, image(b), &mut scratch);
                inside_back(g, &scratch, dst);
            }
        });
    } else {
        out.par_chunks_exact_mut(plane).enumerate().for_each_init(
            || vec![T::zero(); scratch_len],
            |scratch, (b, dst)| {
                vectorized(|| {
                    scatter_windows(g, image(b), scratch);
                    inside_back(g, scratch, dst);
                })
            },
        );
    }
    out
}

/// Adds one image's rows of the column matrix into the padded, channels-last `scratch`, tap by tap.
#[inline(always)]
fn scatter_windows<T: Element>(g: &Windows, rows: &[T], scratch: &mut [T]) {
    let [h, w] = g.axes;
    let (reach_w, channels, width) = (w.reach(), g.channels, g.columns_shape()[1]);
    scratch.fill(T::zero());
    for i in 0..h.kernel {
        for j in 0..w.kernel {
            let tap = (i * w.kernel + j) * channels;
            for (p, row) in rows.chunks_exact(width).enumerate() {
                let (y, xo) = (p / w.out, p % w.out);
                let at = ((y * h.stride + i * h.dilation) * reach_w + xo * w.stride + j * w.dilation) * channels;
                for (d, &v) in scratch[at..at + channels].iter_mut().zip(&row[tap..tap + channels]) {
                    *d = *d + v;
                }
            }
        }
    }
}

/// The inside of the padded, channels-last `scratch` as one image `[C, H, W]`; entries past the windows'
/// reach stay 0.
#[inline(always)]
fn inside_back<T: Element>(g: &Windows, scratch: &[T], dst: &mut [T]) {
    let [h, w] = g.axes;
    let (reach_h, reach_w, channels) = (h.reach(), w.reach(), g.channels);
    let (rows, cols) = (h.size.min(reach_h.saturating_sub(h.pad_left)), w.size.min(reach_w.saturating_sub(w.pad_left)));
    for (c, plane) in dst.chunks_exact_mut(h.size * w.size).enumerate() {
        for ih in 0..rows {
            let src = ((ih + h.pad_left) * reach_w + w.pad_left) * channels + c;
            for (iw, d) in plane[ih * w.size..ih * w.size + cols].iter_mut().enumerate() {
                *d = scratch[src + iw * channels];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::window::Axis;

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

    /// The column matrix from its definition: entry `((b, y, x), (i, j, c))` is `x[b, c, ih, iw]` for the input
    /// entry tap `(i, j)` of window `(y, x)` reads, or `pad`.
    fn reference_im2col(x: &[f64], layout: &Layout, g: &Windows, pad: f64) -> Vec<f64> {
        let [h, w] = g.axes;
        let mut out = Vec::new();
        for b in 0..g.batch {
            for (y, xo) in (0..h.out).flat_map(|y| (0..w.out).map(move |xo| (y, xo))) {
                for (i, j) in (0..h.kernel).flat_map(|i| (0..w.kernel).map(move |j| (i, j))) {
                    for c in 0..g.channels {
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
        for tap in 0..g.taps() {
            let (i, j) = (tap / 3, tap % 3);
            for (r, row) in y.chunks_exact(cols).enumerate() {
                let (b, yo, xo) = (r / g.positions(), r % g.positions() / 16, r % 16);
                if let Some((ih, iw)) = axis.input_at(yo, i).zip(axis.input_at(xo, j)) {
                    for c in 0..8 {
                        want[((b * 8 + c) * 16 + ih) * 16 + iw] += row[tap * 8 + c];
                    }
                }
            }
        }
        assert_eq!(col2im(&y, &g), want);
    }
}
