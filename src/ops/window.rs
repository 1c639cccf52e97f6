//! Sliding-window geometry shared by the convolutions and the poolings: where each window of each output
//! position reads its input, as gather indices into a plane of `H·W` values followed by one padding slot.
//! Gathering with these indices is im2col; the gather's backward (a scatter-add) is col2im.

use crate::error::{Error, Result};

/// The sizes along one spatial dim that a padded, strided, dilated window slides over.
#[derive(Clone, Copy, Debug)]
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
    pub fn input_at(&self, o: usize, k: usize) -> Option<usize> {
        let p = (o * self.stride + k * self.dilation).checked_sub(self.pad_left)?;
        (p < self.size).then_some(p)
    }
}

/// The output size along one dim, `⌊(L + pads − d·(k − 1) − 1)/s⌋ + 1` (or with ⌈·⌉ for `ceil_mode`, where a
/// last window starting in the right padding is dropped, as torch's pooling_output_shape). `None` when the
/// padded input is shorter than the dilated kernel.
pub(crate) fn out_size(
    size: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    (pad_left, pad_right): (usize, usize),
    ceil_mode: bool,
) -> Option<usize> {
    let span = dilation * (kernel - 1) + 1;
    let room = (size + pad_left + pad_right).checked_sub(span)?;
    let mut out = if ceil_mode { room.div_ceil(stride) } else { room / stride } + 1;
    if ceil_mode && (out - 1) * stride >= size + pad_left {
        out -= 1;
    }
    Some(out)
}

/// Gather indices, window by window (`oh`, `ow` outer; taps `kh`, `kw` inner, in torch's scan order), into a
/// plane of `h.size · w.size` entries whose padding slot is the index `h.size · w.size`.
pub(crate) fn window_indices(h: &Axis, w: &Axis) -> Vec<usize> {
    let pad_slot = h.size * w.size;
    let mut indices = Vec::with_capacity(h.out * w.out * h.kernel * w.kernel);
    for oh in 0..h.out {
        for ow in 0..w.out {
            for kh in 0..h.kernel {
                for kw in 0..w.kernel {
                    let at = h.input_at(oh, kh).zip(w.input_at(ow, kw));
                    indices.push(at.map_or(pad_slot, |(ih, iw)| ih * w.size + iw));
                }
            }
        }
    }
    indices
}

/// Splits a batched `[N, C, *spatial]` or unbatched `[C, *spatial]` shape with `spatial` dims into
/// `(batched, [N, C], spatial sizes)`, or the error torch gives for another rank.
pub(crate) fn split_input<'a>(
    op: &'static str,
    shape: &'a [usize],
    spatial: usize,
) -> Result<(bool, [usize; 2], &'a [usize])> {
    match shape.len() {
        r if r == spatial + 2 => Ok((true, [shape[0], shape[1]], &shape[2..])),
        r if r == spatial + 1 => Ok((false, [1, shape[0]], &shape[1..])),
        _ => Err(Error::shape(
            op,
            format!(
                "expected a {}-D (unbatched) or {}-D (batched) input, but got input of size {shape:?}",
                spatial + 1,
                spatial + 2
            ),
        )),
    }
}

/// Checks that every entry of a stride, dilation or kernel size is positive, as torch does.
pub(crate) fn check_positive(op: &'static str, what: &str, values: &[usize]) -> Result<()> {
    if values.contains(&0) {
        return Err(Error::invalid(op, format!("{what} should be greater than zero, but got {what} {values:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_torchs_formula() {
        assert_eq!(out_size(5, 3, 1, 1, (0, 0), false), Some(3));
        assert_eq!(out_size(5, 3, 2, 1, (1, 1), false), Some(3));
        assert_eq!(out_size(5, 2, 2, 1, (0, 0), false), Some(2));
        assert_eq!(out_size(5, 2, 2, 1, (0, 0), true), Some(3));
        // The ceil-mode window would start in the right padding: dropped.
        assert_eq!(out_size(4, 2, 2, 1, (1, 1), true), Some(3));
        assert_eq!(out_size(2, 3, 1, 1, (0, 0), false), None);
        assert_eq!(out_size(5, 3, 1, 2, (0, 0), false), Some(1));
    }

    #[test]
    fn padded_taps_point_at_the_padding_slot() {
        let h = Axis { size: 1, kernel: 1, stride: 1, dilation: 1, pad_left: 0, out: 1 };
        let w = Axis { size: 3, kernel: 2, stride: 2, dilation: 1, pad_left: 1, out: 2 };
        assert_eq!(window_indices(&h, &w), vec![3, 0, 1, 2]);
    }
}
