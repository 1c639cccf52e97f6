//! Every reduction, declared once: its identity, its combine on the CPU and in CUDA C. `sum`, `max` and
//! `min` (whole tensor or along dims) are entries; `mean`, `argmax`, `logsumexp`, `var` are built on them.

use super::pointwise::Map2;
use crate::element::Element;

/// How a reduction's gradient goes back to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReduceBackward {
    /// Every reduced element gets the output's gradient (a sum).
    Spread,
    /// Only the selected elements get it (a max or min: shared among ties over all elements, the first
    /// along a dim).
    Select,
}

macro_rules! reduce_ops {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident {
            label: $label:literal,
            grad_fn: [$grad_all:literal, $grad_dim:literal],
            backward: $backward:ident,
            identity: $id:expr, combine: |$a:ident, $b:ident| $f:expr, cuda: $cuda:literal $(,)? }
    )*) => {
        /// A reduction: an associative combine with an identity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum ReduceOp {
            $($(#[doc = $doc])* $name,)*
        }

        impl ReduceOp {
            /// Every op, in code order.
            pub(crate) const ALL: &'static [ReduceOp] = &[$(ReduceOp::$name,)*];

            /// The op's code in the CUDA kernels.
            pub(crate) fn code(self) -> i32 {
                self as i32
            }

            /// The op's name in errors: `sum`, `max`, `min`.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(ReduceOp::$name => $label,)*
                }
            }

            /// torch's names for the backward node: of the reduction over all elements, and along a dim.
            pub(crate) fn grad_fns(self) -> [&'static str; 2] {
                match self {
                    $(ReduceOp::$name => [$grad_all, $grad_dim],)*
                }
            }

            /// How the gradient goes back to the input.
            pub(crate) fn backward(self) -> ReduceBackward {
                match self {
                    $(ReduceOp::$name => ReduceBackward::$backward,)*
                }
            }

            /// The value of a reduction over nothing.
            pub(crate) fn identity<T: Element>(self) -> T {
                match self {
                    $(ReduceOp::$name => $id,)*
                }
            }

            /// Runs `kernel` with this op's combine.
            pub(crate) fn combine<T: Element, K: Map2<T>>(self, kernel: K) -> K::Output {
                match self {
                    $(ReduceOp::$name => kernel.run(#[inline(always)] move |$a: T, $b: T| -> T { $f }),)*
                }
            }

            /// The CUDA C of `reduce_combine(op, a, b)`.
            pub(crate) fn cuda_source() -> String {
                let mut cases = String::new();
                $(
                    cases.push_str(&format!(
                        "        case {}: return {};  // {}\n", ReduceOp::$name.code(), $cuda, stringify!($name)
                    ));
                )*
                format!(
                    "#define N_REDUCE_OPS {}\n\
                     __device__ __forceinline__ T reduce_combine(int op, T a, T b) {{\n    switch (op) {{\n{cases}\
                     \x20       default: return a;\n    }}\n}}\n",
                    ReduceOp::ALL.len()
                )
            }
        }
    };
}

reduce_ops! {
    /// `a + b`, from 0.
    Sum { label: "sum", grad_fn: ["SumBackward0", "SumBackward1"], backward: Spread, identity: T::zero(), combine: |a, b| a + b, cuda: "a + b" }
    /// The larger, from -∞; NaN wins, as in torch.
    Max { label: "max", grad_fn: ["MaxBackward1", "MaxBackward0"], backward: Select, identity: T::neg_infinity(), combine: |a, b| if a.is_nan() || a >= b { a } else { b }, cuda: "(a != a || a >= b) ? a : b" }
    /// The smaller, from +∞; NaN wins, as in torch.
    Min { label: "min", grad_fn: ["MinBackward1", "MinBackward0"], backward: Select, identity: T::infinity(), combine: |a, b| if a.is_nan() || a <= b { a } else { b }, cuda: "(a != a || a <= b) ? a : b" }
}
