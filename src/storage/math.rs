//! `exp`, `tanh` and `erf` as plain arithmetic, for the pointwise kernels.
//!
//! libm's functions are calls the compiler cannot vectorise, so every kernel built on them ran one element
//! at a time. These are written without branches or calls (each case is computed and the right one
//! selected), so a kernel's loop over them becomes vector code: Cephes' `exp` and `tanh` (Cody–Waite range
//! reduction, then a polynomial or a Padé form) and FreeBSD's `erf`. Multiplies and adds stay separate (no
//! `mul_add`), so every instruction set the kernels are compiled for gives the same bits. Accuracy over the
//! whole range, against `f64` for `f32` and against glibc for `f64`: `f32` exp within 1 ulp and tanh 1.4,
//! `f64` both within 2 (libtorch's parity tests allow about 8 and 45); erf within 1 ulp of libm's.

// The coefficients are the published ones, digit for digit, though f64 keeps fewer.
#![allow(clippy::excessive_precision)]

use num_traits::Float;

/// Vectorisable `exp`, `tanh` and `erf` for the two element types.
///
/// `erf` is FreeBSD's algorithm for `f64` (cheapened, see `erf`) and Norbert Juffa's for `f32`
/// (`erf_f32`), which needs no division.
pub trait Math: Copy {
    /// `eˣ`; +∞ above the largest finite result, 0 below the smallest subnormal, NaN for NaN.
    fn vexp(self) -> Self;
    /// `tanh x`, with NaN for NaN.
    fn vtanh(self) -> Self;
    /// The error function, erf(x), with NaN for NaN.
    fn verf(self) -> Self;
}

/// `c[0] + s (c[1] + s (c[2] + …))`.
#[inline(always)]
fn horner<T: Float, const N: usize>(s: T, c: [f64; N]) -> T {
    c[..N - 1].iter().rev().fold(k::<T>(c[N - 1]), |acc, &c| k::<T>(c) + s * acc)
}

#[inline(always)]
fn k<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or_else(T::nan)
}

/// tanh x from `small`, the odd rational approximation for |x| < 0.625, and `1 - 2 / (e^{2|x|} + 1)` beyond
/// it; both are evaluated and one selected, so a loop over it vectorises. The sign is x's, -0 included.
#[inline(always)]
fn tanh_select<T: Float>(x: T, small: T, exp: impl Fn(T) -> T) -> T {
    let a = x.abs();
    let one = T::one();
    let large = one - (one + one) / (exp(a + a) + one);
    if a < k(0.625) {
        small.copysign(x)
    } else {
        large.copysign(x)
    }
}

/// erf(x) for `f64` by the algorithm of FreeBSD's `s_erf.c` (Sun Microsystems, 1993; the libm crate's
/// `erf`), with its coefficients: rational approximations for |x| in [0, 0.84375), [0.84375, 1.25),
/// [1.25, 1/0.35) and [1/0.35, 6) (the last two of erfc, times e^(-x²)), and ±1 beyond. Every numerator and
/// denominator is evaluated, so a loop over it vectorises, but only the pair for |x| is divided; and where
/// FreeBSD's tail multiplies two exponentials, `e^(-z² - 0.5625) · e^((z - |x|)(z + |x|) + R/S)`, this takes
/// one of the summed exponents and `1/|x|` as a product: the tail is at most erfc(1.25) = 0.077 of the
/// result, so its few ulps of difference stay below one of erf's. Three divisions and one `exp` per
/// element instead of seven and two. `high_bits` keeps the upper half of |x|'s bits, so that `z²` is exact.
#[inline(always)]
fn erf<T: Float>(x: T, high_bits: impl Fn(T) -> T, exp: impl Fn(T) -> T) -> T {
    let a = x.abs();
    let one = T::one();
    let z = x * x;
    let inv = one / a;
    let s = inv * inv;
    let (tail_p, tail_q) =
        if a < k(1.0 / 0.35) { (horner(s, RA), horner(s, SA)) } else { (horner(s, RB), horner(s, SB)) };
    let (p, q) = if a >= k(1.25) {
        (tail_p, tail_q)
    } else if a >= k(0.84375) {
        (horner(a - one, PA), horner(a - one, QA))
    } else {
        (horner(z, PP), horner(z, QQ))
    };
    let r = p / q;
    let small = x + x * r;
    let near_one = one - (one - k(ERX) - r);
    let zh = high_bits(a);
    let tail = one - exp((-zh * zh - k(0.5625)) + ((zh - a) * (zh + a) + r)) * inv;
    // NaN fails every comparison and takes the first approximation, which keeps it.
    let y = if a >= k(6.0) {
        one
    } else if a >= k(1.25) {
        tail
    } else if a >= k(0.84375) {
        near_one
    } else {
        small
    };
    y.copysign(x)
}

/// erf(x) for `f32`, after Norbert Juffa's `erff` (maximum error 0.97 ulp with fused multiply-adds): an odd
/// polynomial below |x| = 0.927734375, and `1 − e^(P(|x|))` above, `P` a polynomial of |x| fitted to
/// log erfc. Both are evaluated and one selected, so a loop over it vectorises; no division. Here every
/// multiply and add is rounded on its own (so that every instruction set gives the same bits): within 1 ulp
/// of the correctly rounded value, and within 7e-8 absolutely, over every `f32`.
#[inline(always)]
fn erf_f32(x: f32) -> f32 {
    let t = x.abs();
    let s = x * x;
    let mut large = -1.728_534_7e-5 * t + 3.831_971_3e-4;
    let u = -3.883_964_4e-3 * t + 2.425_462_2e-2;
    large = large * s + u;
    large = large * t + -1.067_778_8e-1;
    large = large * t + -6.348_466_9e-1;
    large = large * t + -1.287_175_1e-1;
    large = large * t + -t;
    let large = (1.0 - large.vexp()).copysign(x);
    let mut small = -5.967_617e-4 * s + 4.991_194_2e-3;
    small = small * s + -2.676_813_5e-2;
    small = small * s + 1.128_199_3e-1;
    small = small * s + -3.761_253_4e-1;
    small = small * s + 1.283_791_7e-1;
    let small = small * x + x;
    // NaN fails the comparison and takes the polynomial, which keeps it.
    if t > 0.927_734_4 {
        large
    } else {
        small
    }
}

const ERX: f64 = 8.45062911510467529297e-01;
const PP: [f64; 5] = [
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
];
const QQ: [f64; 6] = [
    1.0,
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
];
const PA: [f64; 7] = [
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
];
const QA: [f64; 7] = [
    1.0,
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
];
const RA: [f64; 8] = [
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e+01,
    -6.23753324503260060396e+01,
    -1.62396669462573470355e+02,
    -1.84605092906711035994e+02,
    -8.12874355063065934246e+01,
    -9.81432934416914548592e+00,
];
const SA: [f64; 9] = [
    1.0,
    1.96512716674392571292e+01,
    1.37657754143519042600e+02,
    4.34565877475229228821e+02,
    6.45387271733267880336e+02,
    4.29008140027567833386e+02,
    1.08635005541779435134e+02,
    6.57024977031928170135e+00,
    -6.04244152148580987438e-02,
];
const RB: [f64; 7] = [
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e+01,
    -1.60636384855821916062e+02,
    -6.37566443368389627722e+02,
    -1.02509513161107724954e+03,
    -4.83519191608651397019e+02,
];
const SB: [f64; 8] = [
    1.0,
    3.03380607434824582924e+01,
    3.25792512996573918826e+02,
    1.53672958608443695994e+03,
    3.19985821950859553908e+03,
    2.55305040643316442583e+03,
    4.74528541206955367215e+02,
    -2.24409524465858183362e+01,
];

/// `if x < lo { lo } else if x > hi { hi } else { x }`: a clamp that keeps NaN (both comparisons are false).
macro_rules! clamp_keep_nan {
    ($x:expr, $lo:expr, $hi:expr) => {{
        let x = $x;
        if x < $lo {
            $lo
        } else if x > $hi {
            $hi
        } else {
            x
        }
    }};
}

impl Math for f32 {
    #[inline(always)]
    fn vexp(self) -> f32 {
        // Beyond these, the result is +∞ or 0 whatever the rounding, and `n` below stays in [-150, 128].
        let x = clamp_keep_nan!(self, -104.0f32, 89.0f32);
        // Adding 1.5·2²³ rounds to an integer, which then sits in the low bits of the sum: `n` as a float and
        // `k` as an integer, with no float-to-int conversion.
        const SHIFT: f32 = 12_582_912.0;
        let t = x * std::f32::consts::LOG2_E + SHIFT;
        let n = t - SHIFT;
        let k = (t.to_bits() as i32).wrapping_sub(SHIFT.to_bits() as i32);
        // x − n ln 2 in two steps: n · 0.693359375 is exact.
        let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
        let p = (((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
            + 1.666_666_5e-1)
            * r
            + 5.000_000_1e-1)
            * (r * r)
            + r
            + 1.0;
        // 2ⁿ as two normal factors, so results down to the subnormals are rounded once, in the last product.
        let k1 = (k.wrapping_add(256) as u32 >> 1) as i32 - 128;
        let k2 = k.wrapping_sub(k1);
        let pow2 = |e: i32| f32::from_bits((e.wrapping_add(127) as u32) << 23);
        p * pow2(k1) * pow2(k2)
    }

    #[inline(always)]
    fn vtanh(self) -> f32 {
        let z = self * self;
        let small = ((((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328_2e-1)
            * z
            * self
            + self;
        tanh_select(self, small, f32::vexp)
    }

    #[inline(always)]
    fn verf(self) -> f32 {
        erf_f32(self)
    }
}

impl Math for f64 {
    #[inline(always)]
    fn vexp(self) -> f64 {
        // Beyond these, the result is +∞ or 0 whatever the rounding, and `n` below stays in [-1077, 1025].
        let x = clamp_keep_nan!(self, -746.0f64, 710.0f64);
        const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵²
        let t = x * std::f64::consts::LOG2_E + SHIFT;
        let n = t - SHIFT;
        let k = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
        let r = x - n * 6.931_457_519_531_25e-1 - n * 1.428_606_820_309_417_232_1e-6;
        let rr = r * r;
        let px = r * ((1.261_771_930_748_105_908_8e-4 * rr + 3.029_944_077_074_419_613e-2) * rr + 1.0);
        let qx = ((3.001_985_051_386_644_550_4e-6 * rr + 2.524_483_403_496_841_041_9e-3) * rr
            + 2.272_655_482_081_550_287_7e-1)
            * rr
            + 2.0;
        let p = 1.0 + 2.0 * (px / (qx - px));
        let k1 = (k.wrapping_add(2048) as u64 >> 1) as i64 - 1024;
        let k2 = k.wrapping_sub(k1);
        let pow2 = |e: i64| f64::from_bits((e.wrapping_add(1023) as u64) << 52);
        p * pow2(k1) * pow2(k2)
    }

    #[inline(always)]
    fn vtanh(self) -> f64 {
        let s = self * self;
        let p =
            (-9.643_991_794_250_522_386_3e-1 * s - 9.928_772_310_019_185_865_6e1) * s - 1.614_687_684_417_084_479_5e3;
        let q =
            ((s + 1.128_116_784_916_329_314e2) * s + 2.235_488_390_601_004_485_8e3) * s + 4.844_063_053_251_254_860_5e3;
        let small = self + self * s * (p / q);
        tanh_select(self, small, f64::vexp)
    }

    #[inline(always)]
    fn verf(self) -> f64 {
        erf(self, |a| f64::from_bits(a.to_bits() & 0xffff_ffff_0000_0000), f64::vexp)
    }
}

#[cfg(test)]
mod tests {
    use super::Math;

    /// `got`'s distance from `want` in units of the last place of `want` (as `T`).
    fn ulps(got: f64, want: f64, ulp_at_1: f64) -> f64 {
        if got == want || (got.is_nan() && want.is_nan()) {
            return 0.0;
        }
        let ulp = ulp_at_1 * 2f64.powi(want.abs().log2().floor() as i32);
        (got - want).abs() / ulp
    }

    #[test]
    fn close_to_the_exact_values_everywhere() {
        let mut worst = [0.0f64; 4];
        for i in 0..=200_000 {
            // From -110 to 110, denser near 0.
            let u = i as f64 / 100_000.0 - 1.0;
            let x = 110.0 * u * u * u;
            let x32 = x as f32;
            let (e32, t32) = ((x32 as f64).exp(), (x32 as f64).tanh());
            let eps32 = f32::EPSILON as f64;
            if e32 >= f32::MIN_POSITIVE as f64 && e32 <= f32::MAX as f64 {
                worst[0] = worst[0].max(ulps(x32.vexp() as f64, e32 as f32 as f64, eps32));
            }
            worst[1] = worst[1].max(ulps(x32.vtanh() as f64, t32 as f32 as f64, eps32));
            let x = x * 7.0;
            if x.exp() >= f64::MIN_POSITIVE && x.exp().is_finite() {
                worst[2] = worst[2].max(ulps(x.vexp(), x.exp(), f64::EPSILON));
            }
            worst[3] = worst[3].max(ulps(x.vtanh(), x.tanh(), f64::EPSILON));
        }
        assert!(worst[0] <= 2.0 && worst[1] <= 2.5, "f32 exp, tanh: {worst:?} ulps");
        assert!(worst[2] <= 3.0 && worst[3] <= 3.0, "f64 exp, tanh: {worst:?} ulps");
    }

    #[test]
    fn erf_as_libm() {
        let mut worst = [0.0f64; 2];
        for i in 0..=100_000 {
            let u = i as f64 / 50_000.0 - 1.0;
            let x = 7.0 * u * u * u;
            let x32 = x as f32;
            let want = libm::erf(x32 as f64);
            worst[0] = worst[0].max(ulps(x32.verf() as f64, want as f32 as f64, f32::EPSILON as f64));
            worst[1] = worst[1].max(ulps(x.verf(), libm::erf(x), f64::EPSILON));
        }
        assert!(worst[0] <= 1.0 && worst[1] <= 1.0, "f32, f64 erf: {worst:?} ulps");
        assert!(f32::NAN.verf().is_nan() && f64::NAN.verf().is_nan());
        assert_eq!(
            (f32::INFINITY.verf(), f64::NEG_INFINITY.verf(), (-0.0f64).verf().to_bits()),
            (1.0, -1.0, (-0.0f64).to_bits())
        );
    }

    #[test]
    fn edges() {
        assert!(f32::NAN.vexp().is_nan() && f64::NAN.vexp().is_nan());
        assert!(f32::NAN.vtanh().is_nan() && f64::NAN.vtanh().is_nan());
        assert_eq!(
            (f32::INFINITY.vexp(), f32::NEG_INFINITY.vexp(), 89.0f32.vexp()),
            (f32::INFINITY, 0.0, f32::INFINITY)
        );
        assert_eq!(
            (f64::INFINITY.vexp(), f64::NEG_INFINITY.vexp(), 710.0f64.vexp()),
            (f64::INFINITY, 0.0, f64::INFINITY)
        );
        // Subnormal results, and underflow to 0.
        assert_eq!((-103.0f32).vexp(), (-103.0f32).exp());
        assert_eq!((-744.0f64).vexp(), (-744.0f64).exp());
        assert_eq!(((-105.0f32).vexp(), (-746.0f64).vexp()), (0.0, 0.0));
        assert_eq!((0.0f32.vexp(), (-0.0f64).vexp()), (1.0, 1.0));
        assert_eq!(
            ((-0.0f32).vtanh().to_bits(), (-0.0f64).vtanh().to_bits()),
            ((-0.0f32).to_bits(), (-0.0f64).to_bits())
        );
        assert_eq!((f32::NEG_INFINITY.vtanh(), f64::INFINITY.vtanh(), 30.0f64.vtanh()), (-1.0, 1.0, 1.0));
    }
}
