//! The element types a tensor can hold: `f32` and `f64`, both first-class.

use num_traits::{Float, FromPrimitive, ToPrimitive};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use std::fmt::{Debug, Display};

/// The element type of a tensor, as a value (torch's `tensor.dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `f32` (`torch.float32`).
    F32,
    /// `f64` (`torch.float64`).
    F64,
}

impl DType {
    /// The name torch gives this dtype (`torch.float32`, `torch.float64`).
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
        }
    }

    /// The safetensors name of this dtype (`F32`, `F64`).
    pub fn safetensors_name(self) -> &'static str {
        match self {
            DType::F32 => "F32",
            DType::F64 => "F64",
        }
    }

    /// The C type of this element in the CUDA kernels (`float`, `double`).
    pub(crate) fn c_type(self) -> &'static str {
        match self {
            DType::F32 => "float",
            DType::F64 => "double",
        }
    }

    /// The suffix of this dtype's CUDA kernels (`unary_f32`, `unary_f64`).
    pub(crate) fn kernel_suffix(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.torch_name())
    }
}

/// What the kernels need of an element, kept out of the public API: the trait is sealed (only `f32` and
/// `f64` implement it), and its bounds and methods are torchlet's own business.
pub(crate) mod sealed {
    /// Only `f32` and `f64` are elements: the kernels exist for these two alone (`Math` among them), and the
    /// CUDA backend needs them to be plain device values (cudarc's `DeviceRepr`, `ValidAsZeroBits`).
    #[cfg(feature = "cuda")]
    pub trait Sealed:
        crate::storage::math::Math
        + crate::storage::cpu::cache::Cached
        + crate::storage::cpu::narrow::NarrowGemm
        + cudarc::driver::DeviceRepr
        + cudarc::driver::ValidAsZeroBits
        + Unpin
        + Gemm
    {
    }
    /// Only `f32` and `f64` are elements: the kernels exist for these two alone (`Math` among them).
    #[cfg(not(feature = "cuda"))]
    pub trait Sealed:
        crate::storage::math::Math + crate::storage::cpu::cache::Cached + crate::storage::cpu::narrow::NarrowGemm + Gemm
    {
    }
    impl Sealed for f32 {}
    impl Sealed for f64 {}

    /// The CPU matrix product for the element type (matrixmultiply's `sgemm` / `dgemm`).
    pub trait Gemm: Sized {
        /// `C = A B + beta * C` with arbitrary row/column strides (in elements).
        ///
        /// # Safety
        /// The pointers must be valid for the strided `m x k`, `k x n` and `m x n` views they describe, and `C`
        /// must not overlap `A` or `B`. With `beta = 0`, C is only written, so it may be uninitialised.
        #[allow(clippy::too_many_arguments)]
        unsafe fn gemm(
            m: usize,
            k: usize,
            n: usize,
            a: *const Self,
            rsa: isize,
            csa: isize,
            b: *const Self,
            rsb: isize,
            csb: isize,
            beta: Self,
            c: *mut Self,
            rsc: isize,
            csc: isize,
        );
    }

    macro_rules! impl_gemm {
        ($t:ty, $gemm:path) => {
            impl Gemm for $t {
                unsafe fn gemm(
                    m: usize,
                    k: usize,
                    n: usize,
                    a: *const Self,
                    rsa: isize,
                    csa: isize,
                    b: *const Self,
                    rsb: isize,
                    csb: isize,
                    beta: Self,
                    c: *mut Self,
                    rsc: isize,
                    csc: isize,
                ) {
                    // SAFETY: forwarded from this function's contract.
                    unsafe { $gemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
                }
            }
        };
    }

    impl_gemm!(f32, matrixmultiply::sgemm);
    impl_gemm!(f64, matrixmultiply::dgemm);
}

/// A floating-point element type of a tensor (`f32` or `f64`); sealed, since every kernel is written for
/// exactly these two.
///
/// Generic code over both takes a `T: Element`:
///
/// ```
/// use torchlet::{Element, Tensor};
/// fn halve<T: Element>(x: &Tensor<T>) -> torchlet::Result<Tensor<T>> {
///     x.mul_scalar(T::from_f64_lossy(0.5))
/// }
/// assert_eq!(halve(&Tensor::new([2.0f32]))?.to_vec()?, vec![1.0]);
/// assert_eq!(halve(&Tensor::new([3.0f64]))?.to_vec()?, vec![1.5]);
/// assert_eq!(<f64 as Element>::DTYPE, torchlet::element::DType::F64);
/// # Ok::<(), torchlet::Error>(())
/// ```
pub trait Element:
    sealed::Sealed + Float + FromPrimitive + ToPrimitive + Debug + Display + Default + Send + Sync + 'static
{
    /// This type as a [`DType`] value.
    const DTYPE: DType;

    /// Converts an `f64` constant (a learning rate, `1/n`, ...) to this type.
    fn from_f64_lossy(v: f64) -> Self;

    /// One draw from N(0, 1).
    fn sample_standard_normal<R: Rng + ?Sized>(rng: &mut R) -> Self;

    /// One draw from U(lo, hi); `lo == hi` gives `lo`.
    fn sample_uniform<R: Rng + ?Sized>(lo: Self, hi: Self, rng: &mut R) -> Self;
}

macro_rules! impl_element {
    ($t:ty, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;

            fn from_f64_lossy(v: f64) -> Self {
                v as $t
            }

            fn sample_standard_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
                StandardNormal.sample(rng)
            }

            fn sample_uniform<R: Rng + ?Sized>(lo: Self, hi: Self, rng: &mut R) -> Self {
                if lo >= hi {
                    return lo;
                }
                // Uniform::new only fails for lo >= hi or non-finite bounds; fall back to lo then.
                Uniform::new(lo, hi).map(|u| u.sample(rng)).unwrap_or(lo)
            }
        }
    };
}

impl_element!(f32, DType::F32);
impl_element!(f64, DType::F64);
