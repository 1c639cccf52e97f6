//! Compiles every kernels/*.cu with NVRTC for f32 and f64 — no driver, no GPU needed — so CI catches kernel
//! compile errors on machines without a GPU.
//!
//! Needs libnvrtc on the library path (`scripts/setup-nvrtc.sh` unpacks it into `.nvrtc/lib`):
//! `LD_LIBRARY_PATH=$PWD/.nvrtc/lib cargo test --features cuda --test cuda`.
//! Without libnvrtc the tests fail and say how to get it; without the `cuda` feature they are reported
//! ignored, saying so.

use libtest_mimic::{Completion, Trial};

/// The two compile checks, as trials of this harness.
pub(crate) fn trials() -> Vec<Trial> {
    let tests: [(&str, fn()); 2] = [
        (
            "kernels_compile::nvrtc_compile_of_every_kernel_file_f32_f64",
            nvrtc::nvrtc_compile_of_every_kernel_file_f32_f64,
        ),
        (
            "kernels_compile::nvrtc_reports_compile_errors_with_the_log",
            nvrtc::nvrtc_reports_compile_errors_with_the_log,
        ),
    ];
    tests
        .into_iter()
        .map(|(name, test)| {
            Trial::ignorable_test(name, move || {
                if !cfg!(feature = "cuda") {
                    return Ok(Completion::ignored_with("compiling the kernels needs `--features cuda` and NVRTC"));
                }
                test();
                Ok(Completion::Completed)
            })
        })
        .collect()
}

#[cfg(not(feature = "cuda"))]
mod nvrtc {
    pub(super) fn nvrtc_compile_of_every_kernel_file_f32_f64() {}
    pub(super) fn nvrtc_reports_compile_errors_with_the_log() {}
}

#[cfg(feature = "cuda")]
mod nvrtc {
    use std::path::Path;

    /// The NVRTC targets checked: H100/H200 (what the GPU machines run) and the oldest target NVRTC 13 accepts.
    const ARCHS: &[&str] = &["sm_90", "sm_75"];

    /// Fails the test, saying how to get NVRTC, when it cannot be loaded: compiling the kernels is the point.
    fn require_nvrtc(test: &str) {
        assert!(
            torchlet::cuda::nvrtc_available(),
            "{test}: libnvrtc could not be loaded (run scripts/setup-nvrtc.sh and set LD_LIBRARY_PATH=$PWD/.nvrtc/lib)"
        );
    }

    /// The kernels/*.cu files on disk, sorted.
    fn kernel_files_on_disk() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".cu"))
            .collect();
        files.sort();
        files
    }

    pub(super) fn nvrtc_compile_of_every_kernel_file_f32_f64() {
        require_nvrtc("nvrtc_compile_of_every_kernel_file_f32_f64");
        let on_disk = kernel_files_on_disk();
        assert!(!on_disk.is_empty(), "no kernels/*.cu files found");
        for arch in ARCHS {
            for (dtype, compiled) in [
                ("f32", torchlet::cuda::compile_kernels::<f32>(arch)),
                ("f64", torchlet::cuda::compile_kernels::<f64>(arch)),
            ] {
                let mut compiled = compiled.unwrap_or_else(|e| panic!("{dtype} kernels for {arch}: {e}"));
                compiled.sort();
                assert_eq!(compiled, on_disk, "every kernels/*.cu must be embedded and compiled ({dtype}, {arch})");
            }
        }
    }

    pub(super) fn nvrtc_reports_compile_errors_with_the_log() {
        require_nvrtc("nvrtc_reports_compile_errors_with_the_log");
        // An architecture NVRTC does not know must fail with a CUDA error, not a panic.
        let err = torchlet::cuda::compile_kernels::<f32>("sm_1").unwrap_err().to_string();
        assert!(err.contains("NVRTC failed to compile"), "{err}");
    }
}
