// Elementwise ops of two operands whose views the host has already broadcast to one shape (strides may be 0).

// out[i] = a[view_a(i)] op b[view_b(i)] for i < n; `out` is contiguous and overlaps neither input.
extern "C" __global__ void FN(binary)(const T* a, Strided la, const T* b, Strided lb, T* out, u64 n, int op) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = apply_binary(op, a[strided_offset(la, i)], b[strided_offset(lb, i)]);
    }
}

// out[i] = the gradient of a[view_a(i)] op b[view_b(i)] for operand `side` (0: a, 1: b), given g[view_g(i)].
extern "C" __global__ void FN(binary_grad)(const T* a, Strided la, const T* b, Strided lb, const T* g, Strided lg,
                                           T* out, u64 n, int op, int side) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = binary_grad_of(op, side, a[strided_offset(la, i)], b[strided_offset(lb, i)], g[strided_offset(lg, i)]);
    }
}

// dst[view_d(i)] = dst[view_d(i)] op src[view_s(i)] (op < 0: plain copy) for i < n. `dst` and `src` are
// different buffers, and the host guarantees no two elements of the dst view share an address.
extern "C" __global__ void FN(assign)(T* dst, Strided ld, const T* src, Strided ls, u64 n, int op) {
    GRID_STRIDE_LOOP(i, n) {
        const u64 o = strided_offset(ld, i);
        const T y = src[strided_offset(ls, i)];
        dst[o] = op < 0 ? y : apply_binary(op, dst[o], y);
    }
}

// out[i] = c[view_c(i)] != 0 ? a[view_a(i)] : b[view_b(i)] (torch.where with a 0/1 condition).
extern "C" __global__ void FN(where_cond)(const T* c, Strided lc, const T* a, Strided la, const T* b, Strided lb,
                                          T* out, u64 n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = c[strided_offset(lc, i)] != (T)0 ? a[strided_offset(la, i)] : b[strided_offset(lb, i)];
    }
}
