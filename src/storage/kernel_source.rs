//! The CUDA C of torchlet's kernels for one element type: kernels/*.cu, embedded at build time, behind the
//! declarations of kernels/common.cuh and the pointwise and reduction ops generated from their tables. It
//! needs no CUDA at all: NVRTC compiles it in CUDA builds, and the CPU emulation of the kernels compiles the
//! same text with a C++ compiler.

use super::pointwise;
use super::reduce::ReduceOp;
use crate::element::Element;

/// Declarations every kernel file uses (the `Strided` view, math on `T`).
const COMMON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/common.cuh"));

/// Every kernels/*.cu file, by name.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("unary.cu", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/unary.cu"))),
    ("binary.cu", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/binary.cu"))),
    ("reduce.cu", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/reduce.cu"))),
    ("index.cu", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/index.cu"))),
];

/// Every kernel the CUDA storage launches, without its element-type suffix (`unary` is `unary_f32`/`unary_f64`).
#[allow(dead_code)]
pub(crate) const KERNELS: &[&str] = &[
    "unary",
    "unary_grad",
    "map_inplace",
    "fill",
    "binary",
    "binary_grad",
    "assign",
    "reduce_thread",
    "reduce_block",
    "index_select0",
    "index_add0",
];

/// The source of a module of `files` for `T`: the type prefix, the common declarations, the generated op
/// functions, then the files.
pub(crate) fn module_source<T: Element>(files: &[(&str, &str)]) -> String {
    let dtype = T::DTYPE;
    // `#line` makes compiler messages cite the real file and line.
    let mut src = format!(
        "typedef {} T;\n#define FN(name) name##_{}\n#line 1 \"kernels/common.cuh\"\n{COMMON}\n\
         #line 1 \"generated from src/storage/pointwise.rs and reduce.rs\"\n{}{}",
        dtype.c_type(),
        dtype.kernel_suffix(),
        pointwise::cuda_source(),
        ReduceOp::cuda_source(),
    );
    for (name, body) in files {
        src.push_str(&format!("#line 1 \"kernels/{name}\"\n{body}\n"));
    }
    src
}

/// The whole kernel module for `T`, as compiled.
pub(crate) fn full_source<T: Element>() -> String {
    module_source::<T>(FILES)
}
