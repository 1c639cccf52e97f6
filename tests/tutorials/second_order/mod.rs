//! T11, second derivatives: Hessian-vector products (T11a), a physics-informed network (T11b) and a gradient
//! penalty (T11c), each with its hand-derived twin against autograd, and (feature `tch`, the `libtorch::`
//! modules) against libtorch.

mod gradient_penalty;
mod hessian;
mod pinn;

/// Largest `|a − b| / max(|a|, |b|)` over matching entries (0 where both are 0).
fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| if x == y { 0.0 } else { (x - y).abs() / x.abs().max(y.abs()) }).fold(0.0, f64::max)
}

/// libtorch with one intra-op thread. T11's tensors (at most 1 000 × 32) are below libtorch's parallel grain,
/// so its threads only add wake-ups, and on a loaded machine those cost 30–100 times the work (a 200-step
/// critic run took 17.5 s with the default threads and 0.5 s with one). The setting is process-wide: the
/// other libtorch tests of this binary get one thread too, which changes none of their results beyond the
/// rounding their tolerances allow.
#[cfg(feature = "tch")]
fn libtorch_single_threaded() {
    tch::set_num_threads(1);
}
