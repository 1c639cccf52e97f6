// Row gathers and scatter-adds along dim 0 (index_select and its backward).

// out[e] = x[idx[e / row_len] * stride0 + rest(e % row_len)] for e < n = len(idx) * row_len; `rest` is
// the view of one row (dims 1..) and carries the view's offset. The host checked every idx < size of dim 0.
extern "C" __global__ void FN(index_select0)(const T* x, Strided rest, u64 stride0, const u64* idx, T* out, u64 n,
                                             u64 row_len) {
    GRID_STRIDE_LOOP(e, n) {
        const u64 r = e / row_len;
        const u64 j = e - r * row_len;
        out[e] = x[idx[r] * stride0 + strided_offset(rest, j)];
    }
}

// dst (contiguous rows of row_len) gets row i of the view `ls` of src added into row target(i).
// `plan` groups the rows by target so that no two threads touch one dst element and the additions happen in
// the order of i, as on the CPU (deterministic):
//   plan[0 .. n_targets)                      distinct target rows
//   plan[n_targets .. 2 n_targets + 1)        starts: sources of target t are sources[starts[t] .. starts[t+1])
//   plan[2 n_targets + 1 ..)                  source rows i, ascending within each target
extern "C" __global__ void FN(index_add0)(T* dst, const T* src, Strided ls, const u64* plan, u64 n_targets,
                                          u64 row_len) {
    const u64* targets = plan;
    const u64* starts = plan + n_targets;
    const u64* sources = starts + n_targets + 1;
    GRID_STRIDE_LOOP(e, n_targets * row_len) {
        const u64 t = e / row_len;
        const u64 j = e - t * row_len;
        T* d = dst + targets[t] * row_len + j;
        T acc = *d;
        for (u64 s = starts[t]; s < starts[t + 1]; ++s) {
            acc += src[strided_offset(ls, sources[s] * row_len + j)];
        }
        *d = acc;
    }
}
