//! The binary ops' table: each op's CPU expression, CUDA C expression and the gradients for either operand,
//! and the enum, kernel dispatch and CUDA source generated from it.

use super::{k, Map2, Map3, Side};
use crate::element::Element;

/// How a binary op is recorded for autograd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// `a ± b`: the gradient passes through to each operand (negated for the rhs of a difference), summed
    /// back to its shape; nothing is saved.
    Sum(&'static str),
    /// Both operands saved; each gradient one `binary_grad` pass.
    Pointwise(&'static str),
    /// A comparison: a 0/1 tensor with no gradient, as torch's booleans have none.
    Not,
}

macro_rules! binary_ops {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident {
            name: $op_name:literal,
            recorded: $recorded:ident $(($grad_fn:literal))?,
            f: |$a:ident, $b:ident| $f:expr,
            cuda: $cuda:literal,
            grad_lhs: |$la:ident, $lb:ident, $lg:ident| $grad_lhs:expr,
            grad_rhs: |$ra:ident, $rb:ident, $rg:ident| $grad_rhs:expr,
            cuda_grad_lhs: $cuda_lhs:literal,
            cuda_grad_rhs: $cuda_rhs:literal $(,)?
        }
    )*) => {
        /// An elementwise function of two operands.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum BinaryOp {
            $($(#[doc = $doc])* $name,)*
        }

        impl BinaryOp {
            /// Every op, in code order.
            pub(crate) const ALL: &'static [BinaryOp] = &[$(BinaryOp::$name,)*];

            /// The op's name as torch's function (`add`, `maximum`, `gt`), for errors.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(BinaryOp::$name => $op_name,)*
                }
            }

            /// How autograd records the op, with its grad_fn name.
            pub(crate) fn recorded(self) -> Recorded {
                match self {
                    $(BinaryOp::$name => Recorded::$recorded $(($grad_fn))?,)*
                }
            }

            /// The op's code in the CUDA kernels.
            pub(crate) fn code(self) -> i32 {
                self as i32
            }

            /// Runs `kernel` with this op's function of two elements.
            #[allow(unused_variables)]
            pub(crate) fn forward<T: Element, K: Map2<T>>(self, kernel: K) -> K::Output {
                match self {
                    $(BinaryOp::$name => kernel.run(#[inline(always)] move |$a: T, $b: T| -> T { $f }),)*
                }
            }

            /// Runs `kernel` with the gradient for operand `side` as a function of (lhs, rhs, incoming gradient).
            #[allow(unused_variables)]
            pub(crate) fn gradient<T: Element, K: Map3<T>>(self, side: Side, kernel: K) -> K::Output {
                match (self, side) {
                    $(
                        (BinaryOp::$name, Side::Lhs) => {
                            kernel.run(#[inline(always)] move |$la: T, $lb: T, $lg: T| -> T { $grad_lhs })
                        }
                        (BinaryOp::$name, Side::Rhs) => {
                            kernel.run(#[inline(always)] move |$ra: T, $rb: T, $rg: T| -> T { $grad_rhs })
                        }
                    )*
                }
            }

            /// The CUDA C of `apply_binary(op, a, b)` and `binary_grad_of(op, side, a, b, g)` for every op.
            pub(crate) fn cuda_source() -> String {
                let mut forward = String::new();
                let mut grad = String::new();
                $(
                    let code = BinaryOp::$name.code();
                    forward.push_str(&format!("        case {code}: return {};  // {}\n", $cuda, stringify!($name)));
                    grad.push_str(&format!(
                        "        case {code}: return side == 0 ? ({}) : ({});  // {}\n",
                        $cuda_lhs, $cuda_rhs, stringify!($name)
                    ));
                )*
                format!(
                    "#define N_BINARY_OPS {}\n\
                     __device__ __forceinline__ T apply_binary(int op, T a, T b) {{\n    switch (op) {{\n{forward}\
                     \x20       default: return b;\n    }}\n}}\n\
                     __device__ __forceinline__ T binary_grad_of(int op, int side, T a, T b, T g) {{\n    switch (op) {{\n{grad}\
                     \x20       default: return g;\n    }}\n}}\n",
                    BinaryOp::ALL.len()
                )
            }
        }
    };
}

binary_ops! {
    /// `a + b`
    Add {
        name: "add", recorded: Sum("AddBackward0"),
        f: |a, b| a + b, cuda: "a + b",
        grad_lhs: |_a, _b, g| g, grad_rhs: |_a, _b, g| g,
        cuda_grad_lhs: "g", cuda_grad_rhs: "g",
    }
    /// `a - b`
    Sub {
        name: "sub", recorded: Sum("SubBackward0"),
        f: |a, b| a - b, cuda: "a - b",
        grad_lhs: |_a, _b, g| g, grad_rhs: |_a, _b, g| -g,
        cuda_grad_lhs: "g", cuda_grad_rhs: "-g",
    }
    /// `a · b`
    Mul {
        name: "mul", recorded: Pointwise("MulBackward0"),
        f: |a, b| a * b, cuda: "a * b",
        grad_lhs: |_a, b, g| g * b, grad_rhs: |a, _b, g| g * a,
        cuda_grad_lhs: "g * b", cuda_grad_rhs: "g * a",
    }
    /// `a / b`; torch's rhs gradient `-g · ((a / b) / b)`.
    Div {
        name: "div", recorded: Pointwise("DivBackward0"),
        f: |a, b| a / b, cuda: "a / b",
        grad_lhs: |_a, b, g| g / b, grad_rhs: |a, b, g| -g * ((a / b) / b),
        cuda_grad_lhs: "g / b", cuda_grad_rhs: "-g * ((a / b) / b)",
    }
    /// torch.maximum: NaN if either is NaN; a tie splits the gradient in halves.
    Maximum {
        name: "maximum", recorded: Pointwise("MaximumBackward0"),
        f: |a, b| if a.is_nan() || a > b { a } else { b },
        cuda: "(a != a || a > b) ? a : b",
        grad_lhs: |a, b, g| if a < b { T::zero() } else if a == b { g / k::<T>(2.0) } else { g },
        grad_rhs: |a, b, g| if a > b { T::zero() } else if a == b { g / k::<T>(2.0) } else { g },
        cuda_grad_lhs: "a < b ? (T)0 : (a == b ? g / (T)2 : g)",
        cuda_grad_rhs: "a > b ? (T)0 : (a == b ? g / (T)2 : g)",
    }
    /// torch.minimum: NaN if either is NaN; a tie splits the gradient in halves.
    Minimum {
        name: "minimum", recorded: Pointwise("MinimumBackward0"),
        f: |a, b| if a.is_nan() || a < b { a } else { b },
        cuda: "(a != a || a < b) ? a : b",
        grad_lhs: |a, b, g| if a > b { T::zero() } else if a == b { g / k::<T>(2.0) } else { g },
        grad_rhs: |a, b, g| if a < b { T::zero() } else if a == b { g / k::<T>(2.0) } else { g },
        cuda_grad_lhs: "a > b ? (T)0 : (a == b ? g / (T)2 : g)",
        cuda_grad_rhs: "a < b ? (T)0 : (a == b ? g / (T)2 : g)",
    }
    /// `1` where `a == b`, else `0`; comparisons have no gradient.
    Eq { name: "eq", recorded: Not, f: |a, b| bool01(a == b), cuda: "(T)(a == b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
    /// `1` where `a != b` (NaN included), else `0`.
    Ne { name: "ne", recorded: Not, f: |a, b| bool01(a != b), cuda: "(T)(a != b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
    /// `1` where `a < b`, else `0`.
    Lt { name: "lt", recorded: Not, f: |a, b| bool01(a < b), cuda: "(T)(a < b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
    /// `1` where `a ≤ b`, else `0`.
    Le { name: "le", recorded: Not, f: |a, b| bool01(a <= b), cuda: "(T)(a <= b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
    /// `1` where `a > b`, else `0`.
    Gt { name: "gt", recorded: Not, f: |a, b| bool01(a > b), cuda: "(T)(a > b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
    /// `1` where `a ≥ b`, else `0`.
    Ge { name: "ge", recorded: Not, f: |a, b| bool01(a >= b), cuda: "(T)(a >= b)", grad_lhs: |_a, _b, _g| T::zero(), grad_rhs: |_a, _b, _g| T::zero(), cuda_grad_lhs: "(T)0", cuda_grad_rhs: "(T)0" }
}

#[inline(always)]
fn bool01<T: Element>(b: bool) -> T {
    if b {
        T::one()
    } else {
        T::zero()
    }
}
