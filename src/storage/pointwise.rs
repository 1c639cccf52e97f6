//! Every pointwise op, declared once: the unary ops' table in `unary.rs`, the binary ops' in `binary.rs`, and
//! here what both share (the kernels' traits, the generated CUDA source).
//!
//! An entry holds the op's CPU expression, its CUDA C expression and its gradient (the incoming gradient `g`
//! times the derivative, in terms of the input `x`, the output `y` and the op's scalar `c`). From the table
//! come the op enums and their kernel codes, the CPU kernels (one monomorphised loop per op), the CUDA
//! source of `apply_unary`/`apply_binary` and their gradients (compiled by NVRTC with kernels/*.cu), and the
//! reference values the CPU emulation of the kernels checks every op code against. Adding an op is one entry
//! here plus the tensor method that records it (src/ops) and its tests; an entry without a CUDA expression or
//! a gradient does not compile.
//!
//! `exp`, `tanh` and `erf` are [`Math`](super::math::Math)'s `vexp`, `vtanh` and `verf`: plain arithmetic
//! the compiler vectorises, where libm's are calls. The other functions (`ln`, `powf`, ...) are libm's.
//!
//! Gradients follow torch's formulas (tools/autograd/derivatives.yaml) in torch's order of operations, so
//! results agree with libtorch to the last bit where the arithmetic allows, and keep torch's values at the
//! edges: relu'(0) = 0, |x|'(0) = 0, d/dx x⁰ = 0.

use crate::element::Element;

/// What the backward of a unary op reads besides the incoming gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saves {
    /// Nothing: the gradient depends on `g` (and the scalar) only.
    Nothing,
    /// The op's input `x`.
    Input,
    /// The op's output `y` (cheaper to keep for ops such as `exp`, whose derivative is the output).
    Output,
}

/// A kernel generic over the per-element function it applies; each op calls it with its own closure type,
/// so the loop is compiled once per op with the function inlined.
pub(crate) trait Map1<T> {
    type Output;
    fn run<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) -> Self::Output;
}

/// [`Map1`] for functions of two elements.
pub(crate) trait Map2<T> {
    type Output;
    fn run<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) -> Self::Output;
}

/// [`Map1`] for functions of three elements.
pub(crate) trait Map3<T> {
    type Output;
    fn run<F: Fn(T, T, T) -> T + Sync + Send + Copy>(self, f: F) -> Self::Output;
}

/// Which operand of a binary op a gradient is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Lhs,
    Rhs,
}

mod binary;
mod unary;

pub(crate) use binary::{BinaryOp, Recorded};
pub(crate) use unary::UnaryOp;

/// The numeric constant `v` in `T`.
#[inline(always)]
fn k<T: Element>(v: f64) -> T {
    T::from_f64_lossy(v)
}

/// The CUDA C that kernels/*.cu call for every pointwise op (`apply_unary`, `apply_binary` and their
/// gradients), generated from the tables above; the kernel module and the CPU emulation include it.
pub(crate) fn cuda_source() -> String {
    format!("// Generated from src/storage/pointwise/.\n{}{}", UnaryOp::cuda_source(), BinaryOp::cuda_source())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Eval<T>(T);
    impl<T: Element> Map1<T> for Eval<T> {
        type Output = T;
        fn run<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) -> T {
            f(self.0)
        }
    }

    #[test]
    fn codes_are_dense_and_in_order() {
        assert!(UnaryOp::ALL.iter().enumerate().all(|(i, op)| op.code() == i as i32));
        assert!(BinaryOp::ALL.iter().enumerate().all(|(i, op)| op.code() == i as i32));
    }

    #[test]
    fn generated_cuda_has_a_case_per_op() {
        let src = cuda_source();
        assert_eq!(src.matches("case ").count(), 2 * (UnaryOp::ALL.len() + BinaryOp::ALL.len()));
        assert!(src.contains(&format!("#define N_UNARY_OPS {}", UnaryOp::ALL.len())));
    }

    #[test]
    fn kinks_follow_torch() {
        let relu = UnaryOp::Relu;
        assert_eq!(relu.forward(0.0, Eval(f64::NAN)).to_bits(), f64::NAN.to_bits());
        assert_eq!(relu.forward(0.0, Eval(-0.0f64)), 0.0);
        assert!(UnaryOp::ClampMin.forward(1.0, Eval(f64::NAN)).is_nan());
    }
}
