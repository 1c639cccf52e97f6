//! Sliding windows over `[N, C, H, W]`: the geometry the convolutions and poolings share, and the column
//! matrix that im2col builds and col2im folds back.
//!
//! The column matrix has one row per window and channels last: `[N·OH·OW, kh·kw·C]`, row `(b, y, x)`
//! holding tap `(i, j)` of channel `c` at column `(i·kw + j)·C + c`. A convolution is then one GEMM
//! `columns × weightᵀ` with the weight as `[C_out, kh, kw, C]`, and every GEMM of its backward reads its
//! operands along their rows (the window index is the long dim, and it is never the contiguous one), which
//! is what a packing GEMM reads fastest.

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

    /// The padded positions the windows' taps reach: `(out − 1)·stride + (kernel − 1)·dilation + 1`; the
    /// input sits at `pad_left ..`, and what lies past this reach is never read.
    pub fn reach(&self) -> usize {
        (self.out.max(1) - 1) * self.stride + (self.kernel.max(1) - 1) * self.dilation + 1
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

    /// The column matrix's shape, `[N·OH·OW, kh·kw·C]`.
    pub fn columns_shape(&self) -> [usize; 2] {
        [self.batch * self.positions(), self.taps() * self.channels]
    }

    /// The input's shape, `[N, C, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.axes[0].size, self.axes[1].size]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `taps_inside` agrees with `input_at` tap by tap, over strides, dilations and paddings.
    #[test]
    fn taps_inside_brackets_what_reads_the_input() {
        for (size, kernel, stride, dilation, pad) in
            [(5, 3, 1, 1, 1), (7, 3, 2, 2, 2), (4, 2, 3, 1, 0), (1, 3, 1, 1, 1), (6, 1, 2, 1, 0), (3, 3, 1, 3, 3)]
        {
            let span = dilation * (kernel - 1) + 1;
            let out = (size + 2 * pad - span) / stride + 1;
            let a = Axis { size, kernel, stride, dilation, pad_left: pad, out };
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
