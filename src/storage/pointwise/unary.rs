//! The unary ops' table (with a scalar `c`, unused by most): each op's CPU expression, CUDA C expression
//! and gradient, and the enum, kernel dispatch and CUDA source generated from it.

use super::{k, Map1, Map2, Saves};
use crate::element::Element;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// `(x, y)` for a unary op's gradient from the one saved value `s`; the value not saved is NaN, so a
/// gradient that reads the wrong one shows at once in the tests.
#[inline(always)]
fn saved_pair<T: Element>(saves: Saves, s: T) -> (T, T) {
    match saves {
        Saves::Input => (s, T::nan()),
        Saves::Output => (T::nan(), s),
        Saves::Nothing => (T::nan(), T::nan()),
    }
}

/// A CUDA expression as a `case` body; an entry may also give statements ending in its own `return`.
fn c_body(code: &str) -> String {
    if code.contains("return") {
        code.to_string()
    } else {
        format!("return {code};")
    }
}

macro_rules! unary_ops {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident {
            grad_fn: $grad_fn:literal,
            f: |$x:ident, $c:ident| $f:expr,
            cuda: $cuda:literal,
            saves: $saves:ident,
            grad: |$gx:ident, $gy:ident, $gc:ident, $g:ident| $grad:expr,
            cuda_grad: $cuda_grad:literal $(,)?
        }
    )*) => {
        /// An elementwise function of one operand and a scalar `c` (unused by most ops).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum UnaryOp {
            $($(#[doc = $doc])* $name,)*
        }

        impl UnaryOp {
            /// Every op, in code order.
            pub(crate) const ALL: &'static [UnaryOp] = &[$(UnaryOp::$name,)*];

            /// The op's code in the CUDA kernels.
            pub(crate) fn code(self) -> i32 {
                self as i32
            }

            /// The name torch gives the op's backward node (`tensor.grad_fn`), e.g. `TanhBackward0`.
            pub(crate) fn grad_fn(self) -> &'static str {
                match self {
                    $(UnaryOp::$name => $grad_fn,)*
                }
            }

            /// What the gradient reads besides `g`.
            pub(crate) fn saves(self) -> Saves {
                match self {
                    $(UnaryOp::$name => Saves::$saves,)*
                }
            }

            /// Runs `kernel` with this op's function of one element.
            ///
            /// The closures are `#[inline(always)]` so that the kernel's loop inlines them however long they
            /// are (GELU's, with its erf, is long): a call would leave the loop scalar.
            #[allow(unused_variables, clippy::redundant_closure_call)]
            pub(crate) fn forward<T: Element, K: Map1<T>>(self, c: T, kernel: K) -> K::Output {
                match self {
                    $(UnaryOp::$name => kernel.run(#[inline(always)] move |$x: T| -> T {
                        let $c = c;
                        $f
                    }),)*
                }
            }

            /// Runs `kernel` with this op's gradient as a function of (saved value, incoming gradient).
            #[allow(unused_variables, clippy::redundant_closure_call)]
            pub(crate) fn gradient<T: Element, K: Map2<T>>(self, c: T, kernel: K) -> K::Output {
                match self {
                    $(UnaryOp::$name => kernel.run(#[inline(always)] move |s: T, $g: T| -> T {
                        let ($gx, $gy) = saved_pair(Saves::$saves, s);
                        let $gc = c;
                        $grad
                    }),)*
                }
            }

            /// The CUDA C of `apply_unary(op, x, c)` and `unary_grad_of(op, s, g, c)` for every op.
            pub(crate) fn cuda_source() -> String {
                let mut forward = String::new();
                let mut grad = String::new();
                $(
                    let code = UnaryOp::$name.code();
                    forward.push_str(&format!("        case {code}: {{ {} }}  // {}\n", c_body($cuda), stringify!($name)));
                    let bind = match Saves::$saves {
                        Saves::Input => "const T x = s; ",
                        Saves::Output => "const T y = s; ",
                        Saves::Nothing => "",
                    };
                    grad.push_str(&format!(
                        "        case {code}: {{ {bind}{} }}  // {}\n", c_body($cuda_grad), stringify!($name)
                    ));
                )*
                format!(
                    "#define N_UNARY_OPS {}\n\
                     __device__ __forceinline__ T apply_unary(int op, T x, T c) {{\n    switch (op) {{\n{forward}\
                     \x20       default: return x;\n    }}\n}}\n\
                     __device__ __forceinline__ T unary_grad_of(int op, T s, T g, T c) {{\n    switch (op) {{\n{grad}\
                     \x20       default: return g;\n    }}\n}}\n",
                    UnaryOp::ALL.len()
                )
            }
        }
    };
}

// The CUDA expressions use the helpers of kernels/common.cuh (`t_exp`, `t_log1p`, ...), which pick the float
// or double function, and the constants K_SQRT1_2 = 1/√2, K_2_SQRTPI = 2/√π, K_SQRT_2_PI = √(2/π).
unary_ops! {
    /// `x` (copies and layout changes).
    Identity { grad_fn: "CloneBackward0", f: |x, _c| x, cuda: "x", saves: Nothing, grad: |_x, _y, _c, g| g, cuda_grad: "g" }
    /// `-x`
    Neg { grad_fn: "NegBackward0", f: |x, _c| -x, cuda: "-x", saves: Nothing, grad: |_x, _y, _c, g| -g, cuda_grad: "-g" }
    /// `x²`; torch's pow backward: `g · (2 x)`.
    Square { grad_fn: "PowBackward0", f: |x, _c| x * x, cuda: "x * x", saves: Input, grad: |x, _y, _c, g| g * (k::<T>(2.0) * x), cuda_grad: "g * ((T)2 * x)" }
    /// `√x`; `g / (2 y)`.
    Sqrt { grad_fn: "SqrtBackward0", f: |x, _c| x.sqrt(), cuda: "t_sqrt(x)", saves: Output, grad: |_x, y, _c, g| g / (k::<T>(2.0) * y), cuda_grad: "g / ((T)2 * y)" }
    /// `eˣ`; `g · y`.
    Exp { grad_fn: "ExpBackward0", f: |x, _c| x.vexp(), cuda: "t_exp(x)", saves: Output, grad: |_x, y, _c, g| g * y, cuda_grad: "g * y" }
    /// `ln x`; `g / x`.
    Log { grad_fn: "LogBackward0", f: |x, _c| x.ln(), cuda: "t_log(x)", saves: Input, grad: |x, _y, _c, g| g / x, cuda_grad: "g / x" }
    /// `ln(1 + x)`, accurate near 0; `g / (x + 1)`.
    Log1p { grad_fn: "Log1PBackward0", f: |x, _c| x.ln_1p(), cuda: "t_log1p(x)", saves: Input, grad: |x, _y, _c, g| g / (x + T::one()), cuda_grad: "g / (x + (T)1)" }
    /// `sin x`; `g · cos x`.
    Sin { grad_fn: "SinBackward0", f: |x, _c| x.sin(), cuda: "t_sin(x)", saves: Input, grad: |x, _y, _c, g| g * x.cos(), cuda_grad: "g * t_cos(x)" }
    /// `cos x`; torch's `g · -sin x`.
    Cos { grad_fn: "CosBackward0", f: |x, _c| x.cos(), cuda: "t_cos(x)", saves: Input, grad: |x, _y, _c, g| g * -x.sin(), cuda_grad: "g * -t_sin(x)" }
    /// `|x|`; `g · sign(x)`, 0 at 0.
    Abs { grad_fn: "AbsBackward0", f: |x, _c| x.abs(), cuda: "t_abs(x)", saves: Input, grad: |x, _y, _c, g| g * sign(x), cuda_grad: "g * t_sign(x)" }
    /// torch.sign: 0 at ±0 and NaN (unlike `f64::signum`); its gradient is 0.
    Sign { grad_fn: "SignBackward0", f: |x, _c| sign(x), cuda: "t_sign(x)", saves: Nothing, grad: |_x, _y, _c, _g| T::zero(), cuda_grad: "(T)0" }
    /// `xᶜ`; `g · c xᶜ⁻¹`, and 0 everywhere for c = 0 (torch's pow_backward).
    Powf {
        grad_fn: "PowBackward0",
        f: |x, c| torch_pow(x, c),
        cuda: "t_pow(x, c)",
        saves: Input,
        grad: |x, _y, c, g| if c == T::zero() { T::zero() } else { g * (c * torch_pow(x, c - T::one())) },
        cuda_grad: "c == (T)0 ? (T)0 : g * (c * t_pow(x, c - (T)1))",
    }
    /// `x + c`
    Add { grad_fn: "AddBackward0", f: |x, c| x + c, cuda: "x + c", saves: Nothing, grad: |_x, _y, _c, g| g, cuda_grad: "g" }
    /// `x - c`
    Sub { grad_fn: "SubBackward0", f: |x, c| x - c, cuda: "x - c", saves: Nothing, grad: |_x, _y, _c, g| g, cuda_grad: "g" }
    /// `x · c`
    Mul { grad_fn: "MulBackward0", f: |x, c| x * c, cuda: "x * c", saves: Nothing, grad: |_x, _y, c, g| g * c, cuda_grad: "g * c" }
    /// `c - x`
    RSub { grad_fn: "RsubBackward1", f: |x, c| c - x, cuda: "c - x", saves: Nothing, grad: |_x, _y, _c, g| -g, cuda_grad: "-g" }
    /// `c / x`; `g / x² · (-c)`.
    RDiv { grad_fn: "DivBackward0", f: |x, c| c / x, cuda: "c / x", saves: Input, grad: |x, _y, c, g| g / (x * x) * -c, cuda_grad: "g / (x * x) * -c" }
    /// `x / c`
    Div { grad_fn: "DivBackward0", f: |x, c| x / c, cuda: "x / c", saves: Nothing, grad: |_x, _y, c, g| g / c, cuda_grad: "g / c" }
    /// `c` everywhere (fills and zeroing); its gradient is 0.
    Fill { grad_fn: "FillBackward0", f: |_x, c| c, cuda: "c", saves: Nothing, grad: |_x, _y, _c, _g| T::zero(), cuda_grad: "(T)0" }
    /// `max(x, c)` with NaN kept (torch.clamp_min); the gradient passes where `x ≥ c`.
    ClampMin {
        grad_fn: "ClampMinBackward0",
        f: |x, c| if x < c { c } else { x },
        cuda: "x < c ? c : x",
        saves: Input,
        grad: |x, _y, c, g| if x >= c { g } else { T::zero() },
        cuda_grad: "x >= c ? g : (T)0",
    }
    /// `min(x, c)` with NaN kept (torch.clamp_max); the gradient passes where `x ≤ c`.
    ClampMax {
        grad_fn: "ClampMaxBackward0",
        f: |x, c| if x > c { c } else { x },
        cuda: "x > c ? c : x",
        saves: Input,
        grad: |x, _y, c, g| if x <= c { g } else { T::zero() },
        cuda_grad: "x <= c ? g : (T)0",
    }
    /// `max(x, 0)` with NaN kept; torch's threshold_backward: 0 where `y ≤ 0`, so relu'(0) = 0.
    Relu {
        grad_fn: "ReluBackward0",
        f: |x, _c| if x <= T::zero() { T::zero() } else { x },
        cuda: "x <= (T)0 ? (T)0 : x",
        saves: Output,
        grad: |_x, y, _c, g| if y <= T::zero() { T::zero() } else { g },
        cuda_grad: "y <= (T)0 ? (T)0 : g",
    }
    /// `x` for `x > 0`, else `c · x` (c is the negative slope).
    LeakyRelu {
        grad_fn: "LeakyReluBackward0",
        f: |x, c| if x > T::zero() { x } else { x * c },
        cuda: "x > (T)0 ? x : x * c",
        saves: Input,
        grad: |x, _y, c, g| if x > T::zero() { g } else { g * c },
        cuda_grad: "x > (T)0 ? g : g * c",
    }
    /// `1 / (1 + e⁻ˣ)`; `g · (1 - y) · y`.
    Sigmoid {
        grad_fn: "SigmoidBackward0",
        f: |x, _c| T::one() / (T::one() + (-x).vexp()),
        cuda: "(T)1 / ((T)1 + t_exp(-x))",
        saves: Output,
        grad: |_x, y, _c, g| g * (T::one() - y) * y,
        cuda_grad: "g * ((T)1 - y) * y",
    }
    /// `tanh x`; `g · (1 - y²)`.
    Tanh {
        grad_fn: "TanhBackward0",
        f: |x, _c| x.vtanh(),
        cuda: "t_tanh(x)",
        saves: Output,
        grad: |_x, y, _c, g| g * (T::one() - y * y),
        cuda_grad: "g * ((T)1 - y * y)",
    }
    /// GELU, exact: `x · ½ (1 + erf(x/√2))`; `g · (Φ(x) + x φ(x))`.
    Gelu {
        grad_fn: "GeluBackward0",
        f: |x, _c| x * k::<T>(0.5) * (T::one() + (x * k::<T>(FRAC_1_SQRT_2)).verf()),
        cuda: "x * (T)0.5 * ((T)1 + t_erf(x * (T)K_SQRT1_2))",
        saves: Input,
        grad: |x, _y, _c, g| {
            let cdf = k::<T>(0.5) * (T::one() + (x * k::<T>(FRAC_1_SQRT_2)).verf());
            let pdf = (k::<T>(-0.5) * x * x).vexp() * k::<T>(FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * 0.5);
            g * (cdf + x * pdf)
        },
        cuda_grad: "const T cdf = (T)0.5 * ((T)1 + t_erf(x * (T)K_SQRT1_2)); \
                    const T pdf = t_exp((T)-0.5 * x * x) * (T)(K_2_SQRTPI * K_SQRT1_2 * 0.5); \
                    return g * (cdf + x * pdf);",
    }
    /// GELU, tanh approximation: `½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    GeluTanh {
        grad_fn: "GeluBackward0",
        f: |x, _c| {
            let inner = k::<T>(SQRT_2_OVER_PI) * (x + k::<T>(GELU_KAPPA) * (x * x * x));
            k::<T>(0.5) * x * (T::one() + inner.vtanh())
        },
        cuda: "return (T)0.5 * x * ((T)1 + t_tanh((T)K_SQRT_2_PI * (x + (T)GELU_KAPPA * (x * x * x))));",
        saves: Input,
        grad: |x, _y, _c, g| {
            let t = (k::<T>(SQRT_2_OVER_PI) * (x + k::<T>(GELU_KAPPA) * (x * x * x))).vtanh();
            let left_derivative = k::<T>(0.5) * (T::one() + t);
            let inner_derivative = k::<T>(SQRT_2_OVER_PI) * (T::one() + k::<T>(3.0) * k::<T>(GELU_KAPPA) * (x * x));
            g * (left_derivative + k::<T>(0.5) * x * (T::one() - t * t) * inner_derivative)
        },
        cuda_grad: "const T t = t_tanh((T)K_SQRT_2_PI * (x + (T)GELU_KAPPA * (x * x * x))); \
                    const T inner_derivative = (T)K_SQRT_2_PI * ((T)1 + (T)3 * (T)GELU_KAPPA * (x * x)); \
                    return g * ((T)0.5 * ((T)1 + t) + (T)0.5 * x * ((T)1 - t * t) * inner_derivative);",
    }
    /// SiLU, `x σ(x)`; `g · σ(x) (1 + x (1 - σ(x)))`.
    Silu {
        grad_fn: "SiluBackward0",
        f: |x, _c| x / (T::one() + (-x).vexp()),
        cuda: "x / ((T)1 + t_exp(-x))",
        saves: Input,
        grad: |x, _y, _c, g| {
            let s = T::one() / (T::one() + (-x).vexp());
            g * s * (T::one() + x * (T::one() - s))
        },
        cuda_grad: "const T s = (T)1 / ((T)1 + t_exp(-x)); return g * s * ((T)1 + x * ((T)1 - s));",
    }
    /// Softplus with β = 1 and threshold `c`: `ln(1 + eˣ)`, or `x` above the threshold; `g · eˣ/(eˣ + 1)`.
    Softplus {
        grad_fn: "SoftplusBackward0",
        f: |x, c| if x > c { x } else { x.exp().ln_1p() },
        cuda: "x > c ? x : t_log1p(t_exp(x))",
        saves: Input,
        grad: |x, _y, c, g| if x > c { g } else { let z = x.vexp(); g * z / (z + T::one()) },
        cuda_grad: "const T z = t_exp(x); return x > c ? g : g * z / (z + (T)1);",
    }
    /// ELU with α = `c`: `x` for `x > 0`, else `α (eˣ - 1)`; `g · α eˣ` below 0. The gradient at NaN is
    /// NaN, as libtorch's vectorised kernel gives it (its scalar one passes `g` through).
    Elu {
        grad_fn: "EluBackward0",
        f: |x, c| if x <= T::zero() { c * x.exp_m1() } else { x },
        cuda: "x <= (T)0 ? c * t_expm1(x) : x",
        saves: Input,
        grad: |x, _y, c, g| if x > T::zero() { g } else { g * c * x.vexp() },
        cuda_grad: "x > (T)0 ? g : g * c * t_exp(x)",
    }
}

/// √(2/π) and κ, the tanh-GELU's constants (kernels/common.cuh has the same as K_SQRT_2_PI and GELU_KAPPA).
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_KAPPA: f64 = 0.044715;

/// torch's pow with a scalar exponent: the exponents it special-cases (0, 1, ±0.5, ±1, ±2, 3) are computed as
/// it computes them (`sqrt`, `1 / sqrt`, products), so values at 0, ±inf and NaN agree with torch's, where
/// `powf` would differ (`powf(-inf, 0.5)` is +inf, torch's `sqrt(-inf)` NaN). kernels/common.cuh has the same.
#[inline(always)]
fn torch_pow<T: Element>(x: T, p: T) -> T {
    let is = |v: f64| p == k::<T>(v);
    if p == T::zero() {
        T::one()
    } else if p == T::one() {
        x
    } else if is(0.5) {
        x.sqrt()
    } else if is(-0.5) {
        T::one() / x.sqrt()
    } else if is(-1.0) {
        T::one() / x
    } else if is(2.0) {
        x * x
    } else if is(3.0) {
        x * x * x
    } else if is(-2.0) {
        T::one() / (x * x)
    } else {
        x.powf(p)
    }
}

/// torch.sign: `(0 < x) - (x < 0)`, so 1, -1, or 0 (at ±0 and NaN).
#[inline(always)]
fn sign<T: Element>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}
