//! The points where libtorch disagrees with itself, so that its answer depends on the CPU it runs on or on
//! how its input lies in memory.
//!
//! libtorch picks its kernels at run time: oneDNN by the widest instruction set the CPU has (capped by
//! `ONEDNN_MAX_CPU_ISA`: `SSE41`, `AVX2`, `AVX512_CORE`, ...), ATen's own by `ATEN_CPU_CAPABILITY`
//! (`default`, `avx2`, `avx512`), and ATen's elementwise loops take a vectorised kernel for contiguous runs
//! and a scalar one elsewhere (strided inputs, the tail of a row). Where these variants agree, the parity
//! tests compare every value. Where they do not, torchlet keeps the mathematically right value, which is
//! also what libtorch's other variants give, and the one variant that differs is excluded at that point
//! only, by name: the parity tests then give one verdict on every machine and under every setting.
//!
//! Found by running the parity tests under each setting of the two variables, on an AVX-512 machine (every
//! setting) and an AVX2-only one (the settings up to AVX2). The libtorch is the PyPI wheel of torch 2.13.0.

/// Forward value or gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Forward,
    Gradient,
}

/// One op at one input where one libtorch variant gives another value than the rest.
pub struct Variant {
    /// The op's name, as the parity tests label it.
    pub op: &'static str,
    pub pass: Pass,
    /// The input value (NaN matches NaN).
    pub input: f64,
    /// torchlet's value there, the right one (NaN matches NaN).
    pub ours: f64,
    /// Whether a value is the one the excluded variant gives.
    pub excluded: fn(f64) -> bool,
    /// Which libtorch variant is excluded, and why torchlet's value is the right one.
    pub why: &'static str,
}

pub const VARIANTS: &[Variant] = &[
    Variant {
        op: "gelu",
        pass: Pass::Forward,
        input: f64::INFINITY,
        ours: f64::INFINITY,
        excluded: f64::is_nan,
        why: "gelu(+inf) is NaN in libtorch's oneDNN GELU kernel for AVX-512 (ONEDNN_MAX_CPU_ISA=AVX512_CORE, \
              the default on a CPU with AVX-512); its AVX2 and SSE4.1 kernels give +inf, as \
              0.5·x·(1 + erf(x/√2)) does",
    },
    Variant {
        op: "elu",
        pass: Pass::Gradient,
        input: f64::NAN,
        ours: f64::NAN,
        excluded: f64::is_finite,
        why: "ELU's gradient at NaN is the incoming gradient in libtorch's scalar ELU backward (strided inputs, \
              the tail of a row); its vectorised kernel gives NaN, as the derivative at NaN is",
    },
];

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// The variant that excuses libtorch's `theirs` against torchlet's `ours` for `op` at `input`, if any.
pub fn excused(op: &str, pass: Pass, input: f64, ours: f64, theirs: f64) -> Option<&'static Variant> {
    VARIANTS
        .iter()
        .find(|v| v.op == op && v.pass == pass && same(v.input, input) && same(v.ours, ours) && (v.excluded)(theirs))
}
