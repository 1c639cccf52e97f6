// Shared by every kernel file. The host prepends, per element type:
//     typedef float T;                      (or double)
//     #define FN(name) name##_f32           (or name##_f64)
// so each kernel is instantiated as e.g. `unary_f32` / `unary_f64` in its own NVRTC module.
//
// Sizes and offsets are 64-bit (`u64` <-> Rust `u64`); op codes are `int` (<-> Rust `i32`).

typedef unsigned long long u64;

// Must match MAX_RANK in src/storage/cuda/layout.rs.
#define MAX_RANK 8

// A strided view, passed to kernels by value. Must match `Strided` in src/storage/cuda/layout.rs exactly:
// 8 + 8 u64, one u64, two ints = 144 bytes, 8-byte aligned, no padding.
struct Strided {
    u64 shape[MAX_RANK];
    u64 strides[MAX_RANK];
    u64 offset;
    int rank;
    // 1 when element i of the view sits at offset + i (the host merged it down to rank <= 1, stride 1).
    int contiguous;
};

// The storage offset of element `i` (row-major order over `shape`) of the view `l`.
// The host drops size-1 dims and merges dims it can, so every shape[d] < rank is >= 2 here.
__device__ __forceinline__ u64 strided_offset(const Strided& l, u64 i) {
    if (l.contiguous) {
        return l.offset + i;
    }
    if (l.rank == 1) {  // one strided dim (a column, a transposed vector): no division needed
        return l.offset + i * l.strides[0];
    }
    u64 off = l.offset;
#pragma unroll
    for (int d = MAX_RANK - 1; d >= 0; --d) {
        if (d < l.rank) {
            const u64 size = l.shape[d];
            const u64 q = i / size;
            off += (i - q * size) * l.strides[d];
            i = q;
        }
    }
    return off;
}

// for (u64 i = global thread id; i < n; i += total threads), all in 64-bit arithmetic.
#define GRID_STRIDE_LOOP(i, n)                                                              \
    for (u64 i = (u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x; i < (u64)(n);      \
         i += (u64)blockDim.x * (u64)gridDim.x)

// Math on T, picking the float or double function explicitly (no silent promotion to double).
__device__ __forceinline__ float t_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double t_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float t_exp(float x) { return expf(x); }
__device__ __forceinline__ double t_exp(double x) { return exp(x); }
__device__ __forceinline__ float t_log(float x) { return logf(x); }
__device__ __forceinline__ double t_log(double x) { return log(x); }
__device__ __forceinline__ float t_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double t_abs(double x) { return fabs(x); }
__device__ __forceinline__ float t_powr(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double t_powr(double x, double p) { return pow(x, p); }
// torch's pow with a scalar exponent: the exponents it special-cases are computed as it computes them, so
// values at 0, ±inf and NaN agree (src/storage/pointwise/unary.rs has the same).
__device__ __forceinline__ T t_pow(T x, T p) {
    if (p == (T)0) return (T)1;
    if (p == (T)1) return x;
    if (p == (T)0.5) return t_sqrt(x);
    if (p == (T)-0.5) return (T)1 / t_sqrt(x);
    if (p == (T)-1) return (T)1 / x;
    if (p == (T)2) return x * x;
    if (p == (T)3) return x * x * x;
    if (p == (T)-2) return (T)1 / (x * x);
    return t_powr(x, p);
}

__device__ __forceinline__ float t_sin(float x) { return sinf(x); }
__device__ __forceinline__ double t_sin(double x) { return sin(x); }
__device__ __forceinline__ float t_cos(float x) { return cosf(x); }
__device__ __forceinline__ double t_cos(double x) { return cos(x); }
__device__ __forceinline__ float t_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double t_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float t_erf(float x) { return erff(x); }
__device__ __forceinline__ double t_erf(double x) { return erf(x); }
__device__ __forceinline__ float t_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double t_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float t_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double t_expm1(double x) { return expm1(x); }
// torch.sign: (0 < x) - (x < 0), so 0 at ±0 and NaN.
__device__ __forceinline__ T t_sign(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)-1 : (T)0); }

// Constants of the activations (src/storage/pointwise/unary.rs has the same).
#define K_SQRT1_2 0.70710678118654752440    // 1/√2
#define K_2_SQRTPI 1.12837916709551257390   // 2/√π
#define K_SQRT_2_PI 0.79788456080286535588  // √(2/π)
#define GELU_KAPPA 0.044715

// The host appends, generated from src/storage/pointwise/ (one `case` per op, numbered by its code):
//     T apply_unary(int op, T x, T c)                   the forward of a unary op
//     T unary_grad_of(int op, T s, T g, T c)            g · its derivative, s the saved input or output
//     T apply_binary(int op, T a, T b)                  the forward of a binary op
//     T binary_grad_of(int op, int side, T a, T b, T g) g · its derivative for operand `side` (0 lhs, 1 rhs)
// and the counts N_UNARY_OPS and N_BINARY_OPS.
