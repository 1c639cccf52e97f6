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
__device__ __forceinline__ float t_pow(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double t_pow(double x, double p) { return pow(x, p); }

// UnaryOp::code() in src/storage/mod.rs. `c` is the op's scalar (0 for ops without one).
__device__ __forceinline__ T apply_unary(int op, T x, T c) {
    switch (op) {
        case 0: return x;                                   // Identity
        case 1: return -x;                                  // Neg
        case 2: return x * x;                               // Square
        case 3: return t_sqrt(x);                           // Sqrt
        case 4: return t_exp(x);                            // Exp
        case 5: return t_log(x);                            // Log
        case 6: return t_abs(x);                            // Abs
        case 7: return x > (T)0 ? (T)1 : (x < (T)0 ? (T)-1 : x);  // Sign: 0 at ±0, NaN at NaN (torch.sign)
        case 8: return t_pow(x, c);                         // Powf(c)
        case 9: return x + c;                               // Add(c)
        case 10: return x * c;                              // Mul(c)
        case 11: return c - x;                              // RSub(c)
        case 12: return c / x;                              // RDiv(c)
        case 13: return x / c;                              // Div(c)
        case 14: return c;                                  // Fill(c)
        default: return x;                                  // unreachable: the host passes only the codes above
    }
}

// BinaryOp::code() in src/storage/mod.rs.
__device__ __forceinline__ T apply_binary(int op, T a, T b) {
    switch (op) {
        case 0: return a + b;  // Add
        case 1: return a - b;  // Sub
        case 2: return a * b;  // Mul
        case 3: return a / b;  // Div
        default: return b;     // unreachable: the host passes only the codes above
    }
}
