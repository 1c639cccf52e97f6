//! CUDA availability, and the NVRTC compile check of torchlet's kernels.
//!
//! [`is_available`] and [`device_count`] exist in every build (without the `cuda` feature they report no
//! device), so code that picks a device compiles either way:
//!
//! ```
//! use torchlet::{Device, Tensor};
//! let device = if torchlet::cuda::is_available() { Device::Cuda(0) } else { Device::Cpu };
//! let x = Tensor::<f32>::full_on(&[2, 3], 1.0, device)?;
//! assert_eq!(x.device(), device);
//! # Ok::<(), torchlet::Error>(())
//! ```

/// `true` when torchlet can use a CUDA GPU: built with the `cuda` feature, the driver (libcuda) loads, and it
/// reports at least one device. Never panics.
pub fn is_available() -> bool {
    device_count() > 0
}

/// The number of CUDA devices torchlet can use (`Device::Cuda(0)` to `Device::Cuda(n - 1)`); 0 without the
/// `cuda` feature, without a driver, or without a GPU. Never panics.
pub fn device_count() -> usize {
    #[cfg(feature = "cuda")]
    {
        crate::storage::cuda::device_count()
    }
    #[cfg(not(feature = "cuda"))]
    {
        0
    }
}

/// `true` when NVRTC (libnvrtc), which compiles the kernels at run time, can be loaded.
#[cfg(feature = "cuda")]
pub fn nvrtc_available() -> bool {
    crate::storage::cuda::nvrtc_present()
}

/// Compiles every kernel source (kernels/*.cu, embedded in the crate) for element type `T` and the NVRTC
/// target `arch` (e.g. `"sm_90"`), each file on its own and then as the module the GPU storage loads, and
/// checks that the module defines every kernel the storage launches. Needs only libnvrtc — no driver, no
/// GPU — so CI can run it. Returns the names of the files compiled; an error carries NVRTC's log.
#[cfg(feature = "cuda")]
#[doc(hidden)]
pub fn compile_kernels<T: crate::Element>(arch: &str) -> crate::Result<Vec<&'static str>> {
    crate::storage::cuda::check_kernels::<T>(arch)
}

/// The CUDA C source of torchlet's kernels for element type `T`, exactly as NVRTC compiles it: kernels/*.cu
/// behind the declarations of kernels/common.cuh and the pointwise and reduction ops generated from their
/// tables. Available in every build (it needs no CUDA); the CPU emulation of the kernels compiles it too.
#[doc(hidden)]
pub fn kernel_source<T: crate::Element>() -> String {
    crate::storage::kernel_source::full_source::<T>()
}

/// The CPU's values of every pointwise op and its gradients at sample points, one per line, which the CPU
/// emulation of the kernels (kernels/emulate) checks every op code of [`kernel_source`] against.
#[doc(hidden)]
pub fn emulation_reference<T: crate::Element>() -> String {
    crate::storage::kernel_source::emulation_reference::<T>()
}

/// Waits until every kernel queued on `device` has finished (`torch.cuda.synchronize`), surfacing any
/// asynchronous kernel error; for timing GPU work. A no-op for the CPU.
pub fn synchronize(device: crate::Device) -> crate::Result<()> {
    match device {
        crate::Device::Cpu => Ok(()),
        #[cfg(feature = "cuda")]
        crate::Device::Cuda(ordinal) => crate::storage::cuda::synchronize(ordinal),
        #[cfg(not(feature = "cuda"))]
        crate::Device::Cuda(ordinal) => Err(crate::Error::Cuda(format!(
            "device cuda:{ordinal} requested, but torchlet was built without the `cuda` feature"
        ))),
    }
}
