// Reductions (reduce_combine: sum, max, min) over some dims of a strided view, deterministically: no atomics,
// every output element is produced by exactly one thread or one block, in an order fixed by the launch shape.
//
// The host splits the input's dims into `kept` (those of the output, row-major) and `red` (those summed),
// so the input element for output o and reduction index r sits at strided_offset(kept, o) +
// strided_offset(red, r) (`red.offset` is 0).

// One thread per output element: out[o] = the reduction over r < n_red, in order. For short reductions.
extern "C" __global__ void FN(reduce_thread)(const T* x, Strided kept, Strided red, T* out, u64 n_out, u64 n_red,
                                             int op, T identity) {
    GRID_STRIDE_LOOP(o, n_out) {
        const u64 base = strided_offset(kept, o);
        T acc = identity;
        for (u64 r = 0; r < n_red; ++r) {
            acc = reduce_combine(op, acc, x[base + strided_offset(red, r)]);
        }
        out[o] = acc;
    }
}

// Must match SUM_BLOCK in src/storage/cuda/reduce.rs: the block size this kernel is launched with (a power of 2).
#define SUM_BLOCK 256

// One block per task (o, p), o < n_out, p < n_chunks: out[o * n_chunks + p] = the reduction of the indices
// [p * chunk, min((p + 1) * chunk, n_red)) of output o, with a fixed shared-memory tree. With n_chunks > 1
// the host reduces the partials in a second pass.
extern "C" __global__ void FN(reduce_block)(const T* x, Strided kept, Strided red, T* out, u64 n_out, u64 n_red,
                                            u64 n_chunks, u64 chunk, int op, T identity) {
    __shared__ T partial[SUM_BLOCK];
    const u64 n_tasks = n_out * n_chunks;
    // `task` depends on blockIdx only, so every thread of a block runs the same iterations and reaches
    // each __syncthreads.
    for (u64 task = blockIdx.x; task < n_tasks; task += gridDim.x) {
        const u64 o = task / n_chunks;
        const u64 p = task - o * n_chunks;
        const u64 base = strided_offset(kept, o);
        const u64 begin = p * chunk;
        const u64 end = begin + chunk < n_red ? begin + chunk : n_red;
        T acc = identity;
        for (u64 r = begin + threadIdx.x; r < end; r += SUM_BLOCK) {
            acc = reduce_combine(op, acc, x[base + strided_offset(red, r)]);
        }
        partial[threadIdx.x] = acc;
        __syncthreads();
#pragma unroll
        for (unsigned s = SUM_BLOCK / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                partial[threadIdx.x] = reduce_combine(op, partial[threadIdx.x], partial[threadIdx.x + s]);
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            out[task] = partial[0];
        }
        // partial[0] must be read before the next task overwrites the shared array.
        __syncthreads();
    }
}
