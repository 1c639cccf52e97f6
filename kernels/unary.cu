// Elementwise maps of one operand: out-of-place (strided view -> contiguous), in place, and fills.

// out[i] = op(x[view(i)]) for i < n; `out` is contiguous.
extern "C" __global__ void FN(unary)(const T* x, Strided lx, T* out, u64 n, int op, T c) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = apply_unary(op, x[strided_offset(lx, i)], c);
    }
}

// out[i] = g[view_g(i)] · op'(s[view_s(i)]), the gradient of a unary op from its saved input or output `s`.
extern "C" __global__ void FN(unary_grad)(const T* s, Strided ls, const T* g, Strided lg, T* out, u64 n, int op, T c) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = unary_grad_of(op, s[strided_offset(ls, i)], g[strided_offset(lg, i)], c);
    }
}

// x[view(i)] = op(x[view(i)]) for i < n. The host guarantees the view has no two elements at one address.
extern "C" __global__ void FN(map_inplace)(T* x, Strided lx, u64 n, int op, T c) {
    GRID_STRIDE_LOOP(i, n) {
        const u64 o = strided_offset(lx, i);
        x[o] = apply_unary(op, x[o], c);
    }
}

// out[i] = value for i < n.
extern "C" __global__ void FN(fill)(T* out, u64 n, T value) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = value;
    }
}
