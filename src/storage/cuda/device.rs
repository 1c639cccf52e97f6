//! One CUDA device as the storage uses it: its context and stream, its loaded kernels (one module per element
//! type), its cuBLAS handle. Devices are opened on first use and cached for the process; every failure to
//! open one is a clear `Error::Cuda`, never a panic.

use super::kernels;
use crate::element::Element;
use crate::error::{Error, Result};
use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Threads per block of the elementwise kernels.
const BLOCK: u32 = 256;
/// Most blocks of one elementwise launch; the kernels' grid-stride loops cover any larger `n`.
const MAX_BLOCKS: usize = 1 << 16;

/// An opened CUDA device.
pub(crate) struct CudaDevice {
    pub(crate) ordinal: usize,
    /// The one stream every kernel, copy and GEMM of this device is issued on, so they run in issue order.
    pub(crate) stream: Arc<CudaStream>,
    /// NVRTC's target for this device, from its compute capability (`sm_90` on an H100).
    arch: String,
    /// Loaded kernels by element-type suffix (`f32`, `f64`).
    modules: Mutex<HashMap<&'static str, Arc<HashMap<&'static str, CudaFunction>>>>,
    blas: Mutex<Option<Arc<CudaBlas>>>,
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaDevice(cuda:{}, {})", self.ordinal, self.arch)
    }
}

/// Locks a mutex, going on with the data if another thread panicked while holding it (every value kept
/// under these locks is complete at each point where a panic could happen).
fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A CUDA error of `op` as torchlet's error.
pub(crate) fn driver_error(op: &str, e: DriverError) -> Error {
    Error::Cuda(format!("{op}: {e}"))
}

/// Whether the driver library (libcuda) can be loaded (probed once per process).
pub(crate) fn driver_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: `is_culib_present` only tries to dlopen NVIDIA's driver library under its well-known names (running
    // nothing but that library's own initialisers) and closes it again; no symbol of it is called.
    *PRESENT.get_or_init(|| unsafe { cudarc::driver::sys::is_culib_present() })
}

fn cublas_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: as for `driver_present`, with NVIDIA's cuBLAS library.
    *PRESENT.get_or_init(|| unsafe { cudarc::cublas::sys::is_culib_present() })
}

/// The number of CUDA devices, or why there is none usable.
fn count_devices() -> Result<usize> {
    if !driver_present() {
        return Err(Error::Cuda(
            "CUDA unavailable: libcuda.so not found (no NVIDIA driver on this machine, or not on the library path)"
                .into(),
        ));
    }
    match CudaContext::device_count() {
        Ok(n) => Ok(usize::try_from(n).unwrap_or(0)),
        Err(e) if e.0 == cudarc::driver::sys::CUresult::CUDA_ERROR_NO_DEVICE => Ok(0),
        Err(e) => Err(Error::Cuda(format!("CUDA unavailable: the driver failed to initialise: {e}"))),
    }
}

/// The number of CUDA devices; 0 when there is no driver or no GPU.
pub(crate) fn device_count() -> usize {
    count_devices().unwrap_or(0)
}

/// The device `cuda:{ordinal}`, opened on first use.
pub(crate) fn get(ordinal: usize) -> Result<Arc<CudaDevice>> {
    static DEVICES: OnceLock<Mutex<HashMap<usize, Arc<CudaDevice>>>> = OnceLock::new();
    let mut devices = lock(DEVICES.get_or_init(Default::default));
    if let Some(dev) = devices.get(&ordinal) {
        return Ok(Arc::clone(dev));
    }
    let count = count_devices().map_err(|e| match e {
        Error::Cuda(msg) => Error::Cuda(format!("cuda:{ordinal} requested, but {msg}")),
        other => other,
    })?;
    if count == 0 {
        return Err(Error::Cuda(format!("cuda:{ordinal} requested, but there is no CUDA device (device_count = 0)")));
    }
    if ordinal >= count {
        let present = if count == 1 {
            "1 device is present (cuda:0)".to_string()
        } else {
            format!("{count} devices are present (cuda:0 to cuda:{})", count - 1)
        };
        return Err(Error::Cuda(format!("cuda:{ordinal} requested but only {present}")));
    }
    let open = |e| driver_error(&format!("opening cuda:{ordinal}"), e);
    let ctx = CudaContext::new(ordinal).map_err(open)?;
    // SAFETY: event tracking only synchronises buffers used on several streams. Every buffer of this device is
    // allocated, used and freed on the one `stream` below (kernels, copies and cuBLAS alike), where work runs
    // in issue order, so there is nothing to track; turning it off spares two events per allocation.
    unsafe { ctx.disable_event_tracking() };
    keep_freed_memory_pooled(&ctx);
    let (major, minor) = ctx.compute_capability().map_err(open)?;
    let dev = Arc::new(CudaDevice {
        ordinal,
        stream: ctx.default_stream(),
        arch: format!("sm_{major}{minor}"),
        modules: Mutex::new(HashMap::new()),
        blas: Mutex::new(None),
    });
    devices.insert(ordinal, Arc::clone(&dev));
    Ok(dev)
}

/// Keeps memory freed with `cuMemFreeAsync` in the device's default pool instead of handing it back to the
/// driver at every synchronisation (the pool's default release threshold is 0), as PyTorch's caching allocator
/// keeps its blocks: a loop that allocates and frees large buffers then reuses them instead of mapping fresh
/// pages each step (10⁷-element adds ran 3-5× slower without it on an H200). Best effort: a device without
/// memory pools allocates synchronously and has nothing to keep.
fn keep_freed_memory_pooled(ctx: &CudaContext) {
    use cudarc::driver::sys;
    let mut pool: sys::CUmemoryPool = std::ptr::null_mut();
    // SAFETY: `pool` is a valid place for the returned handle, and `cu_device` is the device of a live context.
    // The handle is the driver's default pool, which is never destroyed, only configured below.
    let found = unsafe { sys::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device()) };
    if found != sys::CUresult::CUDA_SUCCESS || pool.is_null() {
        return;
    }
    let mut threshold: u64 = u64::MAX;
    // SAFETY: CU_MEMPOOL_ATTR_RELEASE_THRESHOLD takes a pointer to a cuuint64_t (`u64`), valid for the call.
    // A failure leaves the pool as it was, which is correct, only slower.
    let _ = unsafe {
        sys::cuMemPoolSetAttribute(
            pool,
            sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            (&mut threshold as *mut u64).cast(),
        )
    };
}

impl CudaDevice {
    /// The kernel `name` for `T` (`unary` → `unary_f32`), compiling and loading the module on first use.
    pub(crate) fn function<T: Element>(&self, name: &'static str) -> Result<CudaFunction> {
        let suffix = T::DTYPE.kernel_suffix();
        let module = {
            let mut modules = lock(&self.modules);
            match modules.get(suffix) {
                Some(m) => Arc::clone(m),
                None => {
                    let ptx = kernels::module_ptx::<T>(&self.arch).map_err(|e| match e {
                        Error::Cuda(msg) => Error::Cuda(format!("cuda:{}: {msg}", self.ordinal)),
                        other => other,
                    })?;
                    let load = |e| {
                        driver_error(&format!("loading the {} kernels on cuda:{}", T::DTYPE.c_type(), self.ordinal), e)
                    };
                    let module = self.stream.context().load_module(ptx).map_err(load)?;
                    let mut functions = HashMap::new();
                    for &kernel in crate::storage::kernel_source::KERNELS {
                        functions.insert(kernel, module.load_function(&format!("{kernel}_{suffix}")).map_err(load)?);
                    }
                    let functions = Arc::new(functions);
                    modules.insert(suffix, Arc::clone(&functions));
                    functions
                }
            }
        };
        module.get(name).cloned().ok_or_else(|| Error::Cuda(format!("no CUDA kernel named {name}")))
    }

    /// This device's cuBLAS handle, created on first use.
    pub(crate) fn blas(&self) -> Result<Arc<CudaBlas>> {
        let mut blas = lock(&self.blas);
        if let Some(b) = blas.as_ref() {
            return Ok(Arc::clone(b));
        }
        if !cublas_present() {
            return Err(Error::Cuda(
                "matmul: CUDA unavailable: libcublas.so not found (cuBLAS runs matmul on the GPU; put the directory \
                 holding libcublas.so.13 on LD_LIBRARY_PATH)"
                    .into(),
            ));
        }
        let handle = CudaBlas::new(Arc::clone(&self.stream))
            .map_err(|e| Error::Cuda(format!("matmul: creating the cuBLAS handle on cuda:{}: {e}", self.ordinal)))?;
        let handle = Arc::new(handle);
        *blas = Some(Arc::clone(&handle));
        Ok(handle)
    }

    /// A buffer for `n` elements (at least one element is allocated, so `n = 0` is a valid empty buffer)
    /// whose contents are left as they are.
    ///
    /// # Safety
    /// The caller must write every one of the first `n` elements (a kernel launched on `self.stream`) before
    /// any of them is read.
    pub(crate) unsafe fn alloc_uninit<T: Element>(&self, n: usize) -> Result<CudaSlice<T>> {
        // SAFETY: forwarded to the caller: the memory is written before it is read.
        unsafe { self.stream.alloc::<T>(n.max(1)) }.map_err(|e| driver_error("allocating device memory", e))
    }

    /// A zeroed buffer for `n` elements (at least one is allocated).
    pub(crate) fn alloc_zeros<T: Element>(&self, n: usize) -> Result<CudaSlice<T>> {
        self.stream.alloc_zeros::<T>(n.max(1)).map_err(|e| driver_error("allocating device memory", e))
    }

    /// Waits for all work on this device's stream, surfacing any asynchronous kernel error.
    pub(crate) fn synchronize(&self, op: &str) -> Result<()> {
        self.stream.synchronize().map_err(|e| driver_error(op, e))
    }
}

/// Launches kernel `$name` for the element type `T` in scope, with `$cfg` and the arguments in order; a
/// driver error names `$op`. It expands to the unsafe launch itself, so it sits in an `unsafe` block whose
/// SAFETY comment shows that the arguments match the kernel's parameters and that every view the kernel
/// reads or writes lies inside its buffer.
macro_rules! launch {
    ($dev:expr, $op:expr, $name:literal, $cfg:expr, [$($arg:expr),* $(,)?]) => {{
        let function = $dev.function::<T>($name)?;
        let mut builder = $dev.stream.launch_builder(&function);
        $(builder.arg($arg);)*
        builder.launch($cfg).map(|_| ()).map_err(|e| $crate::storage::cuda::device::driver_error($op, e))
    }};
}
pub(crate) use launch;

/// The launch shape of an elementwise kernel over `n > 0` items.
pub(crate) fn launch_cfg(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, MAX_BLOCKS) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}
