//! Which instruction set torchlet's CPU kernels run with.
//!
//! torchlet is compiled for baseline x86-64 and picks, once, at run time, the widest instruction set the CPU
//! has for its own elementwise and reduction kernels (today AVX2 with FMA). Every path gives the same bits —
//! the kernels fix their arithmetic and summation order and never fuse a multiply and an add — so the choice
//! changes speed only. It can be forced, to check that claim or to rule the fast path out while debugging:
//!
//! - with the environment variable `TORCHLET_CPU_ISA` (`baseline` or `avx2`), read at the first kernel call;
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
//! The matrix product is `matrixmultiply`'s, which makes its own choice of kernel for the CPU.

pub use crate::storage::simd::Isa;

/// The instruction set the CPU kernels use now.
pub fn isa() -> Isa {
    crate::storage::simd::detected()
}

/// Makes every CPU kernel use `isa` from now on, or the baseline where the CPU lacks `isa`; returns the
/// instruction set now in use. Kernels already running on other threads finish as they started.
pub fn set_isa(isa: Isa) -> Isa {
    crate::storage::simd::choose(isa)
}
