// CUDA built-ins for running kernels/*.cu on the CPU (see emulate.cpp).
// Blocks run one after another; the threads of a block run
// as std::threads with a barrier for __syncthreads, so shared-memory reductions are exercised faithfully.
#include <cmath>
#include <cstdint>
#include <barrier>
#include <thread>
#include <vector>
#include <functional>
struct dim3e { unsigned x = 1, y = 1, z = 1; };
thread_local dim3e threadIdx, blockIdx;
dim3e blockDim, gridDim;
std::barrier<>* g_barrier = nullptr;
inline void __syncthreads() { g_barrier->arrive_and_wait(); }
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
// Runs kernel(args...) over grid x block.
template <class F>
void launch(unsigned grid, unsigned block, bool threaded, F f) {
    gridDim.x = grid; blockDim.x = block;
    for (unsigned b = 0; b < grid; ++b) {
        if (!threaded) {
            for (unsigned t = 0; t < block; ++t) { blockIdx.x = b; threadIdx.x = t; f(); }
        } else {
            std::barrier<> bar(block);
            g_barrier = &bar;
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < block; ++t) ts.emplace_back([&, t] { blockIdx.x = b; threadIdx.x = t; f(); });
            for (auto& th : ts) th.join();
        }
    }
}
