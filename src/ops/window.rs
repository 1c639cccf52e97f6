//! Sliding windows, shared by the convolutions and the poolings: their geometry and checks, and im2col and
//! col2im as recorded ops. Each is the other's backward (col2im adds every tap back where im2col read it;
//! im2col reads back what col2im added), so a graph built from them can be differentiated again.

use crate::autograd::{record, BackwardOp, Grads, GraphCtx};
use crate::element::Element;
use crate::error::{Error, Result};
pub(crate) use crate::storage::window::{Axis, Windows};
use crate::tensor::Tensor;
use smallvec::smallvec;

/// The column matrix `[N·OH·OW, kh·kw·C]` of the windows of a 4-D `input` (see [`crate::storage::window`]),
/// `pad` where a tap falls in the padding (0 for a convolution, −∞ for a max pooling). The gradient of a
/// padding tap goes nowhere.
pub(crate) fn im2col<T: Element>(input: &Tensor<T>, windows: &Windows, pad: T) -> Result<Tensor<T>> {
    if input.shape() != windows.input_shape() {
        return Err(Error::shape("im2col", format!("input {:?} is not {:?}", input.shape(), windows.input_shape())));
    }
    let storage = input.read().im2col(input.layout(), windows, pad)?;
    let out = Tensor::from_storage(storage, &windows.columns_shape());
    Ok(record("Im2ColBackward0", out, &[input], |_| Im2colBackward(*windows)))
}

/// The `[N, C, H, W]` sums of a column matrix's entries at the input entries their taps read: im2col's
/// adjoint.
pub(crate) fn col2im<T: Element>(columns: &Tensor<T>, windows: &Windows) -> Result<Tensor<T>> {
    if columns.shape() != windows.columns_shape() {
        return Err(Error::shape(
            "col2im",
            format!("columns {:?} are not {:?}", columns.shape(), windows.columns_shape()),
        ));
    }
    let storage = columns.read().col2im(columns.layout(), windows)?;
    let out = Tensor::from_storage(storage, &windows.input_shape());
    Ok(record("Col2ImBackward0", out, &[columns], |_| Col2imBackward(*windows)))
}

struct Im2colBackward(Windows);

impl<T: Element> BackwardOp<T> for Im2colBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(col2im(grad, &self.0)?)])
    }

    /// col2im is recorded when grad mode is on: the same code builds the graph.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
    }
}

struct Col2imBackward(Windows);

impl<T: Element> BackwardOp<T> for Col2imBackward {
    fn backward(&self, grad: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(im2col(grad, &self.0, T::zero())?)])
    }

    /// im2col is recorded when grad mode is on: the same code builds the graph.
    fn backward_graph(&self, _ctx: &GraphCtx<'_, T>, grad: &Tensor<T>, needs: &[bool]) -> Option<Result<Grads<T>>> {
        Some(self.backward(grad, needs))
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
}
