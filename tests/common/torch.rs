//! Conversions between torchlet and libtorch (through tch) for the parity tests.

use torchlet::Tensor;

/// An element type both libraries have.
pub trait Both: torchlet::Element + tch::kind::Element + Copy {
    /// Relative tolerance for comparing results computed in this type by two libraries whose kernels
    /// sum in different orders: a few hundred ulps.
    const RTOL: f64;
}

impl Both for f32 {
    // f32 has 2^-24 ≈ 6e-8 relative precision; sums over up to a few thousand terms in another order can
    // differ by ~1e-6 relative, so 1e-5 leaves a margin without hiding real errors (which are ~1e-1).
    const RTOL: f64 = 1e-5;
}

impl Both for f64 {
    const RTOL: f64 = 1e-12;
}

pub fn to_tch<T: Both>(t: &Tensor<T>) -> tch::Tensor {
    let shape: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    tch::Tensor::from_slice(&t.to_vec().unwrap()).reshape(&shape)
}

pub fn values<T: Both>(t: &tch::Tensor) -> Vec<T> {
    Vec::<T>::try_from(&t.flatten(0, -1)).unwrap()
}

pub fn shape_of(t: &tch::Tensor) -> Vec<usize> {
    t.size().iter().map(|&d| d as usize).collect()
}

/// Asserts elementwise `|a - b| <= rtol * max(|b|, scale)`, where `scale` is the largest |b|: entries far
/// below the tensor's magnitude come from cancelling sums, whose rounding error scales with the terms
/// summed, not with the small result, so they are compared on the tensor's magnitude.
pub fn assert_close<T: Both>(ours: &[T], theirs: &[T], rtol: f64, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {} values vs libtorch's {}", ours.len(), theirs.len());
    let scale = theirs.iter().map(|v| v.to_f64().unwrap().abs()).fold(1e-30, f64::max);
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
        let tolerance = rtol * b.abs().max(scale);
        assert!((a - b).abs() <= tolerance || (a.is_nan() && b.is_nan()), "{what}[{i}]: torchlet {a} vs libtorch {b}");
    }
}

/// Largest relative difference between two sequences (0 when both are 0), for reports.
pub fn max_rel_diff(ours: &[f64], theirs: &[f64]) -> f64 {
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs() / b.abs().max(1e-300)).fold(0.0, f64::max)
}
