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
    ("window.cu", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/window.cu"))),
];

/// Every kernel the CUDA storage launches, without its element-type suffix (`unary` is `unary_f32`/`unary_f64`).
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) const KERNELS: &[&str] = &[
    "unary",
    "unary_grad",
    "map_inplace",
    "fill",
    "binary",
    "binary_grad",
    "where_cond",
    "assign",
    "reduce_thread",
    "reduce_block",
    "index_select0",
    "index_add0",
    "im2col",
    "col2im",
];

/// The source of a module of `files` for `T`: the type prefix, the common declarations, the generated op
/// functions, then the files.
pub(crate) fn module_source<T: Element>(files: &[(&str, &str)]) -> String {
    let dtype = T::DTYPE;
    // `#line` makes compiler messages cite the real file and line.
    let mut src = format!(
        "typedef {} T;\n#define FN(name) name##_{}\n#line 1 \"kernels/common.cuh\"\n{COMMON}\n\
         #line 1 \"generated from src/storage/pointwise/ and reduce.rs\"\n{}{}",
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

/// The CPU's values of every pointwise op and its gradients at sample points, and every reduction's identity,
/// one per line, for the CPU emulation of the kernels to check each op code against (the format is described
/// in kernels/emulate/emulate.cpp).
pub(crate) fn emulation_reference<T: Element>() -> String {
    use super::backend::BackendStorage;
    use super::cpu::CpuStorage;
    use super::pointwise::{BinaryOp, Saves, Side, UnaryOp};
    use crate::shape::Layout;

    let t = |v: f64| T::from_f64_lossy(v);
    let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
    let one = Layout::contiguous(&[1]);
    let cpu = |v: T| CpuStorage(vec![v]);
    // Both signs, ±0, the kinks and thresholds of the activations (softplus's default threshold is 20).
    let xs = [-25.0, -3.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 3.5, 21.0];
    let cs = [0.0, 0.5, 2.0, -1.5, 20.0];
    let g = t(1.5);
    let mut out = String::new();
    for &op in UnaryOp::ALL {
        for &c in &cs {
            for &x in &xs {
                let (x, c) = (t(x), t(c));
                let y = cpu(x).unary(&one, op, c).map(|s| s.0[0]).unwrap_or(T::nan());
                let s = match op.saves() {
                    Saves::Output => y,
                    Saves::Input | Saves::Nothing => x,
                };
                let grad = cpu(s).unary_grad(&one, &cpu(g), &one, op, c).map(|s| s.0[0]).unwrap_or(T::nan());
                let line =
                    format!("u {} {:e} {:e} {:e} {:e} {:e} {:e}\n", op.code(), f(c), f(x), f(y), f(s), f(g), f(grad));
                out.push_str(&line);
            }
        }
    }
    for &op in BinaryOp::ALL {
        for &a in &xs {
            for &b in &[-2.0, -0.5, 0.0, 0.5, 1.0, 3.5] {
                let (a, b) = (t(a), t(b));
                let y = cpu(a).binary(&one, &cpu(b), &one, op).map(|s| s.0[0]).unwrap_or(T::nan());
                let grad = |side| {
                    cpu(a).binary_grad(&one, &cpu(b), &one, &cpu(g), &one, op, side).map(|s| s.0[0]).unwrap_or(T::nan())
                };
                let (ga, gb) = (grad(Side::Lhs), grad(Side::Rhs));
                out.push_str(&format!(
                    "b {} {:e} {:e} {:e} {:e} {:e} {:e}\n",
                    op.code(),
                    f(a),
                    f(b),
                    f(y),
                    f(g),
                    f(ga),
                    f(gb)
                ));
            }
        }
    }
    for &op in ReduceOp::ALL {
        out.push_str(&format!("r {} {:e} 0 0 0 0 0\n", op.code(), f(op.identity::<T>())));
    }
    out
}
