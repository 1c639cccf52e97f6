//! The instruction set the CPU kernels' loops run with, chosen at run time.
//!
//! The crate is compiled for baseline x86-64 (SSE2), so the compiler vectorises the kernels' loops with
//! 128-bit registers only. [`vectorized`] runs a kernel inside a function compiled for a wider instruction
//! set when the CPU has it (detected once, then cached): AVX-512 (F, BW, DQ and VL, x86-64-v4's set) or
//! AVX2 with FMA. The kernel's generic loop, inlined there, becomes 512- or 256-bit vector code. Elsewhere
//! (older CPUs, other architectures) it runs as compiled for the baseline.
//!
//! Only what is inlined into `kernel` is compiled for the wider set: a function the kernel calls out of line
//! runs as compiled for the baseline. The kernels' closures are `#[inline(always)]`, and their loops index
//! slices rather than call iterator adapters (`zip`, `fold`, `for_each`) or a closure through a reference
//! (`<&F as Fn>::call`), which the compiler may leave out of line when the loop body is long — GELU's was,
//! and ran as scalar SSE2 code.
//!
//! Every build gives the same bits: Rust never fuses a multiply and an add on its own and the kernels call no
//! `mul_add`; vectorising a loop does not reorder its arithmetic (a reduction's order is fixed by its
//! explicit accumulators, see `cpu::reduce_slice`); and `exp`/`tanh` are plain arithmetic
//! (`super::math`), not calls whose implementation could depend on the CPU.

/// An instruction set the CPU kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Isa {
    /// What the crate is compiled for: SSE2 on x86-64, the target's baseline elsewhere.
    Baseline,
    /// AVX2 with FMA (x86-64 from 2013 on).
    Avx2,
    /// AVX-512 F, BW, DQ and VL, with AVX2 and FMA (x86-64-v4: Intel from Skylake-SP on, AMD from Zen 4 on).
    Avx512,
}

/// The choice: 0 until the first call of [`detected`], then 1 + the `Isa`'s index.
#[cfg(target_arch = "x86_64")]
static CHOICE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The environment variable that caps the first choice: `baseline`, `avx2` or `avx512`.
#[cfg(target_arch = "x86_64")]
const ISA_VARIABLE: &str = "TORCHLET_CPU_ISA";

/// The instruction set in use: on the first call, the widest this CPU supports, or the one
/// `TORCHLET_CPU_ISA` asks for.
pub(crate) fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        match CHOICE.load(std::sync::atomic::Ordering::Relaxed) {
            1 => Isa::Baseline,
            2 => Isa::Avx2,
            3 => Isa::Avx512,
            _ => choose(requested()),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    Isa::Baseline
}

/// What `TORCHLET_CPU_ISA` asks for (the widest when unset). A value it does not know is reported once on
/// stderr and ignored: a typo must not silently keep the fast path that the user meant to rule out.
#[cfg(target_arch = "x86_64")]
fn requested() -> Isa {
    match std::env::var(ISA_VARIABLE) {
        Err(_) => Isa::Avx512,
        Ok(v) if v.eq_ignore_ascii_case("baseline") => Isa::Baseline,
        Ok(v) if v.eq_ignore_ascii_case("avx2") => Isa::Avx2,
        Ok(v) if v.eq_ignore_ascii_case("avx512") => Isa::Avx512,
        Ok(v) => {
            eprintln!(
                "torchlet: {ISA_VARIABLE}={v:?} is none of \"baseline\", \"avx2\", \"avx512\"; using the widest the \
                 CPU has"
            );
            Isa::Avx512
        }
    }
}

/// Whether the CPU has AVX2 and FMA (whatever the kernels' choice): detected once by the standard library, then
/// a cached load.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    has_avx2()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512vl")
}

/// Makes `isa` the kernels' choice from now on, or the widest narrower one the CPU has if it lacks `isa`;
/// returns the choice. Kernels running meanwhile on other threads are unaffected but for their speed: every
/// path gives the same bits.
pub(crate) fn choose(isa: Isa) -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        let isa = match isa {
            Isa::Avx512 if has_avx512() => Isa::Avx512,
            Isa::Avx512 | Isa::Avx2 if has_avx2() => Isa::Avx2,
            _ => Isa::Baseline,
        };
        CHOICE.store(isa as u8 + 1, std::sync::atomic::Ordering::Relaxed);
        isa
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        Isa::Baseline
    }
}

/// Runs `kernel` compiled for the widest instruction set the CPU has.
#[inline(always)]
pub(crate) fn vectorized<R>(kernel: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match detected() {
        // SAFETY: `detected()` gives `Avx512` only where `has_avx512()` found every feature `avx512` is
        // compiled with.
        Isa::Avx512 => return unsafe { avx512(kernel) },
        // SAFETY: `detected()` gives `Avx2` only where `has_avx2()` found AVX2 and FMA, the features `avx2`
        // is compiled with.
        Isa::Avx2 => return unsafe { avx2(kernel) },
        Isa::Baseline => {}
    }
    kernel()
}

/// `kernel()` compiled with AVX2 and FMA: generic, so each kernel gets its own copy with its loop inlined.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}

/// `kernel()` compiled with AVX-512 (F, BW, DQ, VL), AVX2 and FMA: as [`avx2`], 512 bits wide.
///
/// # Safety
/// The CPU must support every feature enabled here.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
unsafe fn avx512<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}
