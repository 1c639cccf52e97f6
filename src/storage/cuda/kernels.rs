//! The compilation of the kernel module (src/storage/kernel_source.rs) by NVRTC: once per process per
//! (architecture, element type), whatever the number of devices of that architecture.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::storage::kernel_source::{module_source, FILES, KERNELS};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions, Ptx};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Whether libnvrtc can be loaded (probed once per process).
pub(crate) fn nvrtc_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    // SAFETY: `is_culib_present` only tries to dlopen NVIDIA's NVRTC library under its well-known names (running
    // nothing but that library's own initialisers) and closes it again; no symbol of it is called.
    *PRESENT.get_or_init(|| unsafe { cudarc::nvrtc::sys::is_culib_present() })
}

fn nvrtc_missing() -> Error {
    Error::Cuda(
        "CUDA unavailable: libnvrtc.so not found (NVRTC compiles torchlet's kernels; put the directory holding \
         libnvrtc.so.13 on LD_LIBRARY_PATH)"
            .into(),
    )
}

/// Compiles `src` (program `name`, which NVRTC's messages cite) for `arch` (`sm_90`, `compute_90`, ...) to PTX, or
/// fails with NVRTC's log.
fn compile(src: &str, name: String, arch: &str, what: &str) -> Result<Ptx> {
    if !nvrtc_present() {
        return Err(nvrtc_missing());
    }
    let opts =
        CompileOptions { options: vec![format!("--gpu-architecture={arch}")], name: Some(name), ..Default::default() };
    compile_ptx_with_opts(src, opts).map_err(|e| {
        let detail = match e {
            CompileError::CompileError { nvrtc, log, .. } => format!("{nvrtc:?}:\n{}", log.to_string_lossy()),
            other => format!("{other:?}"),
        };
        Error::Cuda(format!("NVRTC failed to compile {what} for {arch}: {detail}"))
    })
}

/// The PTX of all kernels for `T` on `arch`, compiled on first use and cached for the process.
pub(crate) fn module_ptx<T: Element>(arch: &str) -> Result<Ptx> {
    type Cache = Mutex<HashMap<(String, &'static str), Ptx>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (arch.to_string(), T::DTYPE.kernel_suffix());
    // Held while compiling, so two threads asking at once compile once.
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(ptx) = cache.get(&key) {
        return Ok(ptx.clone());
    }
    let what = format!("the {} kernels (kernels/*.cu)", T::DTYPE.c_type());
    let ptx = compile(&module_source::<T>(FILES), format!("torchlet_{}.cu", key.1), arch, &what)?;
    cache.insert(key, ptx.clone());
    Ok(ptx)
}

/// Compiles every kernels/*.cu file on its own, then the module the storage loads, for `T` on `arch`, and
/// checks that the module defines every kernel the storage launches. Needs only libnvrtc (no driver, no GPU).
/// Returns the names of the files compiled.
pub(crate) fn check_all<T: Element>(arch: &str) -> Result<Vec<&'static str>> {
    let (suffix, c_type) = (T::DTYPE.kernel_suffix(), T::DTYPE.c_type());
    for &(name, body) in FILES {
        let what = format!("kernels/{name} ({c_type})");
        compile(&module_source::<T>(&[(name, body)]), format!("{suffix}_{name}"), arch, &what)?;
    }
    let what = format!("the {c_type} kernel module");
    let ptx = compile(&module_source::<T>(FILES), format!("torchlet_{suffix}.cu"), arch, &what)?;
    let text = ptx.to_src();
    for kernel in KERNELS {
        let entry = format!(".entry {kernel}_{suffix}(");
        if !text.contains(&entry) {
            return Err(Error::Cuda(format!("the compiled {c_type} module has no kernel {kernel}_{suffix}")));
        }
    }
    Ok(FILES.iter().map(|&(name, _)| name).collect())
}
