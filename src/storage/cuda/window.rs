//! im2col and col2im as CUDA kernels (kernels/window.cu).

use super::device::{launch, launch_cfg};
use super::layout::check_in_bounds;
use super::CudaStorage;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use crate::storage::backend::BackendStorage;
use crate::storage::pointwise::UnaryOp;
use crate::storage::window::Windows;
use cudarc::driver::{DeviceRepr, PushKernelArg};

/// The windows and the input view as the kernels take them, laid out exactly like `struct Window` in
/// kernels/window.cu: 19 `u64`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct WindowArgs {
    sizes: [u64; 4],
    /// Kernel, stride, dilation and padding, each height then width, then the output's height and width.
    axes: [u64; 10],
    strides: [u64; 4],
    offset: u64,
}

// SAFETY: `WindowArgs` is `#[repr(C)]` plain data (u64 only, no pointers, no padding, every bit pattern valid)
// with the same field order, types and size as the C struct the kernels take by value.
unsafe impl DeviceRepr for WindowArgs {}

const _: () = assert!(std::mem::size_of::<WindowArgs>() == 19 * 8);

impl WindowArgs {
    /// The arguments for the windows `g` over a 4-D view with `strides` and `offset`.
    fn new(g: &Windows, strides: &[usize], offset: usize) -> Self {
        let [h, w] = g.axes;
        let u = |v: usize| v as u64;
        WindowArgs {
            sizes: [u(g.batch), u(g.channels), u(h.size), u(w.size)],
            axes: [
                h.kernel, w.kernel, h.stride, w.stride, h.dilation, w.dilation, h.pad_left, w.pad_left, h.out, w.out,
            ]
            .map(u),
            strides: [0, 1, 2, 3].map(|d| u(strides[d])),
            offset: u(offset),
        }
    }
}

impl<T: Element> CudaStorage<T> {
    pub(super) fn im2col_kernel(&self, layout: &Layout, g: &Windows, pad: T) -> Result<Self> {
        const OP: &str = "im2col";
        let [rows, cols] = g.columns_shape();
        let n = rows * cols;
        if layout.shape[..] != g.input_shape() {
            return Err(Error::shape(OP, format!("input {:?} is not {:?}", layout.shape, g.input_shape())));
        }
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, layout, self.len)?;
        let args = WindowArgs::new(g, &layout.strides, layout.offset);
        // SAFETY: the `im2col` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let n64 = n as u64;
        // SAFETY: the arguments match `im2col(const T* in, Window g, T pad, T* out, u64 n)`; the kernel reads
        // only entries of the view (taps outside it take `pad`), which lies inside `self.data` (checked above),
        // and writes n = rows · cols elements of `out`.
        unsafe { launch!(self.dev, OP, "im2col", launch_cfg(n), [&self.data, &args, &pad, &mut out, &n64]) }?;
        Ok(self.derived(out, n))
    }

    pub(super) fn col2im_kernel(&self, layout: &Layout, g: &Windows) -> Result<Self> {
        const OP: &str = "col2im";
        let n = g.input_shape().iter().product::<usize>();
        if layout.shape[..] != g.columns_shape() {
            return Err(Error::shape(OP, format!("columns {:?} are not {:?}", layout.shape, g.columns_shape())));
        }
        if n == 0 || layout.numel() == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(n)?, n));
        }
        check_in_bounds(OP, layout, self.len)?;
        // The kernel reads the columns as one contiguous matrix.
        let packed;
        let columns = if layout.is_contiguous() && layout.offset == 0 {
            self
        } else {
            packed = self.unary(layout, UnaryOp::Identity, T::zero())?;
            &packed
        };
        let args = WindowArgs::new(g, &[0; 4], 0);
        // SAFETY: the `col2im` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let n64 = n as u64;
        // SAFETY: the arguments match `col2im(const T* cols, Window g, T* out, u64 n)`; `columns` holds the
        // whole [N·OH·OW, kh·kw·C] matrix from its start (contiguous at offset 0, or packed above), every read
        // index is below that size, and the kernel writes n = N·C·H·W elements of `out`.
        unsafe { launch!(self.dev, OP, "col2im", launch_cfg(n), [&columns.data, &args, &mut out, &n64]) }?;
        Ok(self.derived(out, n))
    }
}
