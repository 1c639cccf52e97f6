//! CUDA storage: a device buffer and the storage primitives as CUDA kernels (kernels/*.cu, compiled at run time
//! by NVRTC) and cuBLAS GEMMs, all issued on one stream per device.
//!
//! Every primitive checks on the host that each view it hands a kernel lies inside its buffer, and that an
//! in-place write has no two elements at one address, so a kernel never reads or writes out of bounds. Views
//! travel to the kernels as a small by-value struct ([`layout::Strided`]) with their dims merged where the
//! memory allows, so contiguous and simply-broadcast views index as cheaply as flat arrays.

mod device;
mod kernels;
mod layout;
mod matmul;
mod reduce;
mod window;

pub(crate) use device::device_count;

/// Waits for all work queued on `cuda:{ordinal}`.
pub(crate) fn synchronize(ordinal: usize) -> Result<()> {
    device::get(ordinal)?.synchronize("synchronize")
}
pub(crate) use kernels::{check_all as check_kernels, nvrtc_present};

use self::device::{driver_error, launch_cfg, CudaDevice};
use self::layout::{check_in_bounds, Strided};
use super::backend::BackendStorage;
use super::pointwise::{BinaryOp, Side, UnaryOp};
use super::reduce::ReduceOp;
use crate::device::Device;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::Layout;
use cudarc::driver::{CudaSlice, PushKernelArg};
use device::launch;
use std::sync::Arc;

/// A buffer of `len` elements on one CUDA device.
pub(crate) struct CudaStorage<T: Element> {
    /// At least one element long, so an empty storage is still a valid allocation.
    data: CudaSlice<T>,
    len: usize,
    dev: Arc<CudaDevice>,
}

impl<T: Element> std::fmt::Debug for CudaStorage<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaStorage<{}>(cuda:{}, {} elements)", T::DTYPE.c_type(), self.dev.ordinal, self.len)
    }
}

impl<T: Element> CudaStorage<T> {
    /// A storage on the same device as `self`.
    fn derived(&self, data: CudaSlice<T>, len: usize) -> Self {
        CudaStorage { data, len, dev: Arc::clone(&self.dev) }
    }

    /// `n` copies of `value` on `cuda:{ordinal}`.
    pub fn full(n: usize, value: T, ordinal: usize) -> Result<Self> {
        let dev = device::get(ordinal)?;
        if value.is_zero() && value.is_sign_positive() {
            let data = dev.alloc_zeros(n)?;
            return Ok(CudaStorage { data, len: n, dev });
        }
        // SAFETY: the `fill` kernel below writes all n elements before anything can read them.
        let mut data = unsafe { dev.alloc_uninit::<T>(n) }?;
        if n > 0 {
            let n64 = n as u64;
            // SAFETY: the arguments match `fill(T* out, u64 n, T value)` in kernels/unary.cu, and `data` holds n
            // elements of T.
            unsafe { launch!(dev, "full", "fill", launch_cfg(n), [&mut data, &n64, &value]) }?;
        }
        Ok(CudaStorage { data, len: n, dev })
    }

    /// A copy of host data on `cuda:{ordinal}`.
    pub fn from_host(host: &[T], ordinal: usize) -> Result<Self> {
        let dev = device::get(ordinal)?;
        let data = if host.is_empty() {
            dev.alloc_zeros(0)?
        } else {
            dev.stream.clone_htod(host).map_err(|e| driver_error("copy to the GPU", e))?
        };
        Ok(CudaStorage { data, len: host.len(), dev })
    }
}

impl<T: Element> BackendStorage<T> for CudaStorage<T> {
    fn device(&self) -> Device {
        Device::Cuda(self.dev.ordinal)
    }

    fn to_vec(&self, layout: &Layout) -> Result<Vec<T>> {
        let n = layout.numel();
        if n == 0 {
            return Ok(Vec::new());
        }
        check_in_bounds("to_vec", layout, self.len)?;
        let copied = if layout.is_contiguous() {
            self.dev.stream.clone_dtoh(&self.data.slice(layout.offset..layout.offset + n))
        } else {
            let packed = self.unary(layout, UnaryOp::Identity, T::zero())?;
            self.dev.stream.clone_dtoh(&packed.data.slice(..n))
        };
        let host = copied.map_err(|e| driver_error("copy to the host", e))?;
        self.dev.synchronize("copy to the host")?;
        Ok(host)
    }

    fn unary(&self, layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        const OP: &str = "unary op";
        let n = layout.numel();
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, layout, self.len)?;
        let lx = Strided::of(OP, layout)?;
        // SAFETY: the `unary` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let (n64, code) = (n as u64, op.code());
        // SAFETY: the arguments match `unary(const T* x, Strided lx, T* out, u64 n, int op, T c)`; every
        // element of `lx` lies inside `self.data` (checked above) and `out` holds n elements.
        unsafe { launch!(self.dev, OP, "unary", launch_cfg(n), [&self.data, &lx, &mut out, &n64, &code, &c]) }?;
        Ok(self.derived(out, n))
    }

    fn unary_grad(&self, layout: &Layout, grad: &Self, grad_layout: &Layout, op: UnaryOp, c: T) -> Result<Self> {
        const OP: &str = "backward";
        let [ls, lg] = Strided::joint(OP, [layout, grad_layout])?;
        let n = layout.numel();
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, layout, self.len)?;
        check_in_bounds(OP, grad_layout, grad.len)?;
        // SAFETY: the `unary_grad` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let (n64, code) = (n as u64, op.code());
        // SAFETY: the arguments match `unary_grad(const T* s, Strided ls, const T* g, Strided lg, T* out, u64 n,
        // int op, T c)`; both views lie inside their buffers (checked above; they may be one buffer, only read),
        // and `out` is a fresh buffer of n elements.
        unsafe {
            launch!(
                self.dev,
                OP,
                "unary_grad",
                launch_cfg(n),
                [&self.data, &ls, &grad.data, &lg, &mut out, &n64, &code, &c]
            )
        }?;
        Ok(self.derived(out, n))
    }

    fn binary(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout, op: BinaryOp) -> Result<Self> {
        const OP: &str = "binary op";
        let [la, lb] = Strided::joint(OP, [lhs, rhs_layout])?;
        let n = lhs.numel();
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, lhs, self.len)?;
        check_in_bounds(OP, rhs_layout, rhs.len)?;
        // SAFETY: the `binary` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let (n64, code) = (n as u64, op.code());
        // SAFETY: the arguments match `binary(const T* a, Strided la, const T* b, Strided lb, T* out, u64 n,
        // int op)`; both views lie inside their buffers (checked above; they may be one buffer, only read), and
        // `out` is a fresh buffer of n elements.
        unsafe {
            launch!(self.dev, OP, "binary", launch_cfg(n), [&self.data, &la, &rhs.data, &lb, &mut out, &n64, &code])
        }?;
        Ok(self.derived(out, n))
    }

    fn binary_grad(
        &self,
        lhs: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        grad: &Self,
        grad_layout: &Layout,
        op: BinaryOp,
        side: Side,
    ) -> Result<Self> {
        const OP: &str = "backward";
        let [la, lb, lg] = Strided::joint(OP, [lhs, rhs_layout, grad_layout])?;
        let n = lhs.numel();
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, lhs, self.len)?;
        check_in_bounds(OP, rhs_layout, rhs.len)?;
        check_in_bounds(OP, grad_layout, grad.len)?;
        // SAFETY: the `binary_grad` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let (n64, code, side) = (n as u64, op.code(), i32::from(side == Side::Rhs));
        // SAFETY: the arguments match `binary_grad(const T* a, Strided la, const T* b, Strided lb, const T* g,
        // Strided lg, T* out, u64 n, int op, int side)`; the three views lie inside their buffers (checked above;
        // they are only read) and `out` is a fresh buffer of n elements.
        unsafe {
            launch!(
                self.dev,
                OP,
                "binary_grad",
                launch_cfg(n),
                [&self.data, &la, &rhs.data, &lb, &grad.data, &lg, &mut out, &n64, &code, &side]
            )
        }?;
        Ok(self.derived(out, n))
    }

    fn where_cond(&self, cond: &Layout, a: &Self, la: &Layout, b: &Self, lb: &Layout) -> Result<Self> {
        const OP: &str = "where";
        let [lc, la_s, lb_s] = Strided::joint(OP, [cond, la, lb])?;
        let n = cond.numel();
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, cond, self.len)?;
        check_in_bounds(OP, la, a.len)?;
        check_in_bounds(OP, lb, b.len)?;
        // SAFETY: the `where_cond` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let n64 = n as u64;
        // SAFETY: the arguments match `where_cond(const T* c, Strided lc, const T* a, Strided la, const T* b,
        // Strided lb, T* out, u64 n)`; the three views lie inside their buffers (checked above; they are only
        // read) and `out` is a fresh buffer of n elements.
        unsafe {
            launch!(
                self.dev,
                OP,
                "where_cond",
                launch_cfg(n),
                [&self.data, &lc, &a.data, &la_s, &b.data, &lb_s, &mut out, &n64]
            )
        }?;
        Ok(self.derived(out, n))
    }

    fn reduce_to(&self, layout: &Layout, out_shape: &[usize], op: ReduceOp) -> Result<Self> {
        self.reduce_view(layout, out_shape, op)
    }

    fn matmul(&self, lhs: &Layout, rhs: &Self, rhs_layout: &Layout) -> Result<Self> {
        matmul::matmul(self, lhs, rhs, rhs_layout)
    }

    fn index_select0(&self, layout: &Layout, indices: &[usize]) -> Result<Self> {
        const OP: &str = "index_select";
        let Some(&rows) = layout.shape.first() else {
            return Err(Error::shape(OP, "cannot index a 0-D tensor"));
        };
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::invalid(OP, format!("index {bad} is out of bounds for dim 0 with size {rows}")));
        }
        let row_len = crate::shape::numel(&layout.shape[1..]);
        let n = indices.len() * row_len;
        if n == 0 {
            return Ok(self.derived(self.dev.alloc_zeros(0)?, 0));
        }
        check_in_bounds(OP, layout, self.len)?;
        let rest = Strided::from_dims(OP, &layout.shape[1..], &layout.strides[1..], layout.offset)?;
        let idx: Vec<u64> = indices.iter().map(|&i| i as u64).collect();
        let idx = self.dev.stream.clone_htod(&idx).map_err(|e| driver_error(OP, e))?;
        // SAFETY: the `index_select0` kernel below writes all n elements before anything can read them.
        let mut out = unsafe { self.dev.alloc_uninit::<T>(n) }?;
        let (stride0, n64, row_len64) = (layout.strides[0] as u64, n as u64, row_len as u64);
        // SAFETY: the arguments match `index_select0(const T* x, Strided rest, u64 stride0, const u64* idx,
        // T* out, u64 n, u64 row_len)`; every index is below the size of dim 0 (checked above), so each read is
        // an element of the view, which lies inside `self.data`; `idx` holds n / row_len indices and `out` n
        // elements.
        unsafe {
            launch!(
                self.dev,
                OP,
                "index_select0",
                launch_cfg(n),
                [&self.data, &rest, &stride0, &idx, &mut out, &n64, &row_len64]
            )
        }?;
        Ok(self.derived(out, n))
    }

    fn index_add0(&mut self, row_len: usize, src: &Self, src_layout: &Layout, indices: &[usize]) -> Result<()> {
        const OP: &str = "index_add";
        if src_layout.numel() != indices.len() * row_len {
            return Err(Error::shape(
                OP,
                format!("source of shape {:?} does not hold {} rows of {row_len}", src_layout.shape, indices.len()),
            ));
        }
        if row_len == 0 || indices.is_empty() {
            return Ok(());
        }
        let rows = self.len / row_len;
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::invalid(OP, format!("index {bad} is out of bounds for {rows} rows")));
        }
        check_in_bounds(OP, src_layout, src.len)?;
        let ls = Strided::of(OP, src_layout)?;
        // Group the source rows by target (a stable sort keeps them in order within a target), so each thread
        // owns one destination element and adds its sources in the CPU's order.
        let mut order: Vec<usize> = (0..indices.len()).collect();
        order.sort_by_key(|&i| indices[i]);
        let (mut targets, mut starts) = (Vec::new(), Vec::new());
        for (pos, &i) in order.iter().enumerate() {
            if targets.last() != Some(&(indices[i] as u64)) {
                targets.push(indices[i] as u64);
                starts.push(pos as u64);
            }
        }
        starts.push(order.len() as u64);
        let n_targets = targets.len();
        let mut plan = targets;
        plan.extend(starts);
        plan.extend(order.iter().map(|&i| i as u64));
        let plan = self.dev.stream.clone_htod(&plan).map_err(|e| driver_error(OP, e))?;
        let (n_targets64, row_len64) = (n_targets as u64, row_len as u64);
        // SAFETY: the arguments match `index_add0(T* dst, const T* src, Strided ls, const u64* plan,
        // u64 n_targets, u64 row_len)`; `plan` is laid out as the kernel reads it (targets, n_targets + 1 starts,
        // one source row per index); every target row lies inside `self.data` (indices checked above) and
        // every source element inside `src.data` (view checked above); `self` and `src` are distinct buffers and
        // distinct targets make each destination element one thread's.
        unsafe {
            launch!(
                self.dev,
                OP,
                "index_add0",
                launch_cfg(n_targets * row_len),
                [&mut self.data, &src.data, &ls, &plan, &n_targets64, &row_len64]
            )
        }?;
        Ok(())
    }

    fn im2col(&self, layout: &Layout, windows: &crate::storage::window::Windows, pad: T) -> Result<Self> {
        self.im2col_kernel(layout, windows, pad)
    }

    fn col2im(&self, layout: &Layout, windows: &crate::storage::window::Windows) -> Result<Self> {
        self.col2im_kernel(layout, windows)
    }

    fn assign(&mut self, dst: &Layout, src: &Self, src_layout: &Layout, op: Option<BinaryOp>) -> Result<()> {
        const OP: &str = "in-place op";
        let [ld, ls] = Strided::joint(OP, [dst, src_layout])?;
        let n = dst.numel();
        if n == 0 {
            return Ok(());
        }
        check_in_bounds(OP, dst, self.len)?;
        check_in_bounds(OP, src_layout, src.len)?;
        let (n64, code) = (n as u64, op.map_or(-1, BinaryOp::code));
        // SAFETY: the arguments match `assign(T* dst, Strided ld, const T* src, Strided ls, u64 n, int op)`; both
        // views lie inside their buffers (checked above), which are distinct (`&mut self` and `&src`), and no two
        // elements of the dst view share an address (`Storage::assign` checks that), so each is one thread's.
        unsafe { launch!(self.dev, OP, "assign", launch_cfg(n), [&mut self.data, &ld, &src.data, &ls, &n64, &code]) }?;
        Ok(())
    }

    fn map_inplace(&mut self, dst: &Layout, op: UnaryOp, c: T) -> Result<()> {
        const OP: &str = "in-place op";
        let n = dst.numel();
        if n == 0 {
            return Ok(());
        }
        check_in_bounds(OP, dst, self.len)?;
        let lx = Strided::of(OP, dst)?;
        let (n64, code) = (n as u64, op.code());
        // SAFETY: the arguments match `map_inplace(T* x, Strided lx, u64 n, int op, T c)`; the view lies inside
        // `self.data` (checked above) and has no two elements at one address (`Storage::map_inplace` checks that),
        // so each is one thread's.
        unsafe { launch!(self.dev, OP, "map_inplace", launch_cfg(n), [&mut self.data, &lx, &n64, &code, &c]) }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_can_be_shared_across_threads() {
        fn send_sync<S: Send + Sync>() {}
        send_sync::<CudaStorage<f32>>();
        send_sync::<CudaStorage<f64>>();
    }

    #[test]
    fn no_gpu_is_an_error_not_a_panic() {
        if device::driver_present() {
            return; // only meaningful on machines without a driver
        }
        let err = CudaStorage::<f32>::full(3, 1.0, 0).unwrap_err().to_string();
        assert!(err.contains("cuda:0 requested, but CUDA unavailable: libcuda.so not found"), "{err}");
        assert_eq!(device_count(), 0);
    }
}
