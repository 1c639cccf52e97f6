//! Sliding windows over `[N, C, H, W]`: the geometry the convolutions and poolings share, and the column
//! matrix that im2col builds and col2im folds back.
//!
//! The columns are laid out as torch's own im2col lays them out per image, with the batch folded into the
//! columns: `[C·kh·kw, N·OH·OW]`, row `(c, i, j)` holding tap `(i, j)` of channel `c` for every window. A
//! row is then a run of whole output rows, so with stride 1 both the gather and the scatter-add move
//! contiguous slices, and a convolution is one GEMM `weight [C_out, C·kh·kw] × columns`.

/// The sizes along one spatial dim that a padded, strided, dilated window slides over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Axis {
    /// The input's size along this dim.
    pub size: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Padding before the first input entry; what lies after the last one only shows in `out`.
    pub pad_left: usize,
    /// The number of window positions (the output's size along this dim).
    pub out: usize,
}

impl Axis {
    /// The input entry that tap `k` of window `o` reads, or `None` when it falls in the padding.
    #[cfg(test)]
    pub fn input_at(&self, o: usize, k: usize) -> Option<usize> {
        let p = (o * self.stride + k * self.dilation).checked_sub(self.pad_left)?;
        (p < self.size).then_some(p)
    }

    /// The windows `lo..hi` whose tap `k` reads inside the input (those before `lo` and from `hi` on read
    /// the padding), and the input entry window `lo` reads.
    pub fn inside(&self, k: usize) -> (usize, usize, usize) {
        let shift = k * self.dilation;
        // The first window o with o·s + shift ≥ pad_left, and the first with o·s + shift ≥ pad_left + size.
        let first_at = |bound: usize| bound.saturating_sub(shift).div_ceil(self.stride).min(self.out);
        let (lo, hi) = (first_at(self.pad_left), first_at(self.pad_left + self.size));
        let start = (lo * self.stride + shift).saturating_sub(self.pad_left);
        (lo, hi.max(lo), start)
    }

    /// The taps `lo..hi` of window `o` that read inside the input (those before and after read the
    /// padding), and the input entry tap `lo` reads.
    pub fn taps_inside(&self, o: usize) -> (usize, usize, usize) {
        let first = (o * self.stride) as isize - self.pad_left as isize;
        let d = self.dilation as isize;
        // The first tap k with first + k·d ≥ bound: ⌈(bound − first)/d⌉, or 0 when bound ≤ first.
        let tap_at = |bound: isize| ((bound - first).max(0) + d - 1) / d;
        let lo = (tap_at(0) as usize).min(self.kernel);
        let hi = (tap_at(self.size as isize) as usize).clamp(lo, self.kernel);
        (lo, hi, (first + lo as isize * d).max(0) as usize)
    }
}

/// Where the windows of an `[N, C, H, W]` input lie: a 1-D window is a 2-D one of height 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Windows {
    pub batch: usize,
    pub channels: usize,
    /// Height, then width.
    pub axes: [Axis; 2],
}

impl Windows {
    /// Taps per window and channel, `kh·kw`.
    pub fn taps(&self) -> usize {
        self.axes[0].kernel * self.axes[1].kernel
    }

    /// Window positions per image, `OH·OW`.
    pub fn positions(&self) -> usize {
        self.axes[0].out * self.axes[1].out
    }

    /// The column matrix's shape, `[C·kh·kw, N·OH·OW]`.
    pub fn columns_shape(&self) -> [usize; 2] {
        [self.channels * self.taps(), self.batch * self.positions()]
    }

    /// The input's shape, `[N, C, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.axes[0].size, self.axes[1].size]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inside` agrees with `input_at` tap by tap, over strides, dilations and paddings.
    #[test]
    fn inside_and_taps_inside_bracket_what_reads_the_input() {
        for (size, kernel, stride, dilation, pad) in
            [(5, 3, 1, 1, 1), (7, 3, 2, 2, 2), (4, 2, 3, 1, 0), (1, 3, 1, 1, 1), (6, 1, 2, 1, 0), (3, 3, 1, 3, 3)]
        {
            let span = dilation * (kernel - 1) + 1;
            let out = (size + 2 * pad - span) / stride + 1;
            let a = Axis { size, kernel, stride, dilation, pad_left: pad, out };
            for k in 0..kernel {
                let (lo, hi, start) = a.inside(k);
                for o in 0..out {
                    let want = a.input_at(o, k);
                    let got = (lo..hi).contains(&o).then(|| start + (o - lo) * stride);
                    assert_eq!(got, want, "{a:?}, tap {k}, window {o}");
                }
            }
            for o in 0..out {
                let (lo, hi, start) = a.taps_inside(o);
                for k in 0..kernel {
                    let got = (lo..hi).contains(&k).then(|| start + (k - lo) * dilation);
                    assert_eq!(got, a.input_at(o, k), "{a:?}, window {o}, tap {k}");
                }
            }
        }
    }
}
