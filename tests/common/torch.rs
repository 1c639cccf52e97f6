//! Conversions between torchlet and libtorch (through tch) for the parity tests.

use super::variants;
use rand::Rng;
use torchlet::Tensor;

/// An element type both libraries have.
pub trait Both: torchlet::Element + tch::kind::Element + Copy {
    /// Relative tolerance per element for one op computed by two libraries whose kernels round and sum in
    /// different orders: a few dozen ulps of the type, so a drift of one ulp per step in a rule fails.
    const RTOL: f64;
    /// The type's machine epsilon, for the absolute floor of [`assert_close`].
    const EPS: f64;
}

impl Both for f32 {
    // 2^-23 ≈ 1.2e-7 per ulp: 8 ulps.
    const RTOL: f64 = 1e-6;
    const EPS: f64 = f32::EPSILON as f64;
}

impl Both for f64 {
    // 2^-52 ≈ 2.2e-16 per ulp: about 45 ulps, what composite ops (softmax, the losses) accumulate.
    const RTOL: f64 = 1e-14;
    const EPS: f64 = f64::EPSILON;
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

/// Asserts elementwise `|a - b| <= rtol·|b| + 16 ε·scale` (equal infinities and NaN against NaN pass), where
/// `scale` is the largest finite |b| and ε the type's epsilon. The relative term checks every element on
/// its own magnitude; the floor of 16 ulps of the tensor's magnitude admits the rounding of entries that
/// come from cancelling sums, whose error scales with the terms summed, not with the small result.
pub fn assert_close<T: Both>(ours: &[T], theirs: &[T], rtol: f64, what: &str) {
    assert_close_excusing(ours, theirs, rtol, what, |_, _, _| None);
}

/// [`assert_close`], where an element that differs is let through only when `excuse(index, ours, theirs)`
/// names a known libtorch variant (see [`variants`]); each excused element is reported on stderr.
pub fn assert_close_excusing<T: Both>(
    ours: &[T],
    theirs: &[T],
    rtol: f64,
    what: &str,
    excuse: impl Fn(usize, f64, f64) -> Option<&'static variants::Variant>,
) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {} values vs libtorch's {}", ours.len(), theirs.len());
    let scale = theirs.iter().map(|v| v.to_f64().unwrap().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let floor = 16.0 * T::EPS * scale;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
        let close = a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= rtol * b.abs() + floor;
        if close {
            continue;
        }
        if let Some(variant) = excuse(i, a, b) {
            eprintln!("NOTE: {what}[{i}]: libtorch {b} not compared, torchlet keeps {a}: {}", variant.why);
            continue;
        }
        panic!(
            "{what}[{i}]: torchlet {a} vs libtorch {b} (difference {:.3e}, allowed {:.3e})",
            (a - b).abs(),
            rtol * b.abs() + floor
        );
    }
}

/// A torchlet op applied to its inputs, for [`parity`].
pub type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> torchlet::Result<Tensor<T>> + 'a;
/// The same op in libtorch, for [`parity`].
pub type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

/// Runs an op in both libraries on the same inputs, then backward with the same output weights, and
/// compares the outputs and every input's gradient within `rtol` (plus [`assert_close`]'s floor): the
/// per-op [`Both::RTOL`], or a tolerance sized to the sums behind an entry (convolutions, poolings).
pub fn parity<T: Both>(name: &str, inputs: &[Tensor<T>], rtol: f64, ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
    let leaves: Vec<Tensor<T>> =
        inputs.iter().map(|x| x.detach().deep_clone().unwrap().requires_grad_(true).unwrap()).collect();
    let torch_leaves: Vec<tch::Tensor> = inputs.iter().map(|x| to_tch(x).set_requires_grad(true)).collect();
    let out = ours(&leaves).unwrap_or_else(|e| panic!("{name}: {e}"));
    let torch_out = theirs(&torch_leaves);
    assert_eq!(out.shape(), shape_of(&torch_out).as_slice(), "{name}: output shape");
    assert_close(&out.to_vec().unwrap(), &values::<T>(&torch_out), rtol, &format!("{name} forward"));

    let weights: Vec<T> = (0..out.numel()).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5).unwrap()).collect();
    let w = Tensor::from_vec(weights, out.shape()).unwrap();
    out.mul(&w).unwrap().sum().unwrap().backward().unwrap();
    (torch_out * to_tch(&w)).sum(None).backward();
    for (i, (ours, theirs)) in leaves.iter().zip(&torch_leaves).enumerate() {
        let g = ours.grad().unwrap_or_else(|| panic!("{name}: no gradient for input {i}"));
        assert_eq!(g.shape(), ours.shape(), "{name}: gradient shape of input {i}");
        assert_close(&g.to_vec().unwrap(), &values::<T>(&theirs.grad()), rtol, &format!("{name} grad {i}"));
    }
}

/// A tensor of `shape` with values uniform in `[lo, hi)`.
pub fn random<T: Both>(shape: &[usize], lo: f64, hi: f64, rng: &mut impl Rng) -> Tensor<T> {
    let data = (0..shape.iter().product()).map(|_| T::from_f64(rng.random_range(lo..hi)).unwrap()).collect();
    Tensor::from_vec(data, shape).unwrap()
}

/// Largest relative difference between two sequences (0 when both are 0), for reports.
pub fn max_rel_diff(ours: &[f64], theirs: &[f64]) -> f64 {
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs() / b.abs().max(1e-300)).fold(0.0, f64::max)
}
