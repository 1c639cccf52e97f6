//! Which instruction set torchlet's CPU kernels run with, and the cache their buffers come from.
//!
//! torchlet is compiled for baseline x86-64 and picks, once, at run time, the widest instruction set the CPU
//! has for its own elementwise and reduction kernels: AVX-512 (F, BW, DQ, VL), else AVX2 with FMA. Every path gives the same bits —
//! the kernels fix their arithmetic and summation order and never fuse a multiply and an add — so the choice
//! changes speed only. It can be forced, to check that claim or to rule the fast path out while debugging:
//!
//! - with the environment variable `TORCHLET_CPU_ISA` (`baseline`, `avx2` or `avx512`), read at the first
//!   kernel call;
//! - with [`set_isa`], at any time, for the whole process.
//!
//! ```
//! use torchlet::cpu::{self, Isa};
//! let before = cpu::isa();
//! assert_eq!(cpu::set_isa(Isa::Baseline), Isa::Baseline);
//! // ... every CPU kernel now runs its baseline build ...
//! cpu::set_isa(before);
//! ```
//!
//! The matrix product makes its own choice of kernel for the CPU, whatever [`set_isa`] says: results at most 64
//! columns wide run torchlet's AVX2 and FMA kernel where the CPU has both, other products run
//! `matrixmultiply`'s (which picks its own kernel).
//!
//! ## The buffer cache
//!
//! A CPU tensor's buffer comes from a cache of freed buffers, as PyTorch's CUDA caching allocator keeps
//! device memory: a training loop asks for the same sizes every step, so after its first step a step takes
//! no tensor buffer from the system allocator, and no fresh pages for the kernels to fault in. Requests are
//! rounded up to size classes (at most a quarter more), each thread keeps its own cache (no lock), and a
//! thread caches at most 256 MiB, freeing its largest cached buffers first to stay below that. The limit
//! can be changed with the environment variable `TORCHLET_CPU_CACHE_MB` (read at the first allocation; `0`
//! turns the cache off) or [`set_cache_limit`]; [`empty_cache`] frees what the calling thread holds, and
//! [`memory_stats`] counts what went to and from the system allocator.
//!
//! ```
//! use torchlet::{cpu, Tensor};
//! let x = Tensor::<f32>::ones(&[1000]);
//! let before = cpu::memory_stats().system_allocations;
//! for _ in 0..10 {
//!     let y = x.exp()?; // the same size each time: the buffer freed by the last `y` serves the next
//!     drop(y);
//! }
//! assert!(cpu::memory_stats().system_allocations - before <= 1);
//! cpu::empty_cache();
//! # Ok::<(), torchlet::Error>(())
//! ```

pub use crate::storage::simd::Isa;

/// The instruction set the CPU kernels use now.
pub fn isa() -> Isa {
    crate::storage::simd::detected()
}

/// Makes every CPU kernel use `isa` from now on, or the widest narrower one the CPU has where it lacks `isa`;
/// returns the instruction set now in use. Kernels already running on other threads finish as they started.
pub fn set_isa(isa: Isa) -> Isa {
    crate::storage::simd::choose(isa)
}

/// What the CPU buffer cache has taken from and given back to the system allocator (see the module's
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryStats {
    /// Tensor buffers allocated from the system allocator since the process started, on every thread: the
    /// requests the cache could not serve.
    pub system_allocations: u64,
    /// Tensor buffers freed to the system allocator since the process started, on every thread: evicted,
    /// larger than the limit, or emptied by [`empty_cache`].
    pub system_frees: u64,
    /// The bytes the calling thread's cache holds now.
    pub cached_bytes: usize,
}

/// The CPU buffer cache's counts.
pub fn memory_stats() -> MemoryStats {
    let (system_allocations, system_frees, cached_bytes) = crate::storage::cpu::cache::stats();
    MemoryStats { system_allocations, system_frees, cached_bytes }
}

/// Frees every buffer the calling thread's cache holds (`torch.cuda.empty_cache()` for the CPU).
pub fn empty_cache() {
    crate::storage::cpu::cache::empty();
}

/// Sets how many bytes each thread's cache may hold (256 MiB by default); 0 turns the cache off. A cache
/// above the new limit shrinks as buffers are next freed.
pub fn set_cache_limit(bytes: usize) {
    crate::storage::cpu::cache::set_limit(bytes);
}
