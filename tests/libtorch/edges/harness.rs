//! What every part of the suite shares: the parity check, leaves laid out alike in both libraries, the
//! worst-difference report.

pub(crate) use crate::common::torch::{assert_close_excusing, shape_of, to_tch, values, Both};
use crate::common::variants::{excused, Pass};
pub(crate) use rand::rngs::StdRng;
pub(crate) use rand::{Rng, SeedableRng};
use std::cell::Cell;
pub(crate) use torchlet::nn::functional as F;
pub(crate) use torchlet::nn::Reduction;
pub(crate) use torchlet::{cat, no_grad, stack, GeluApproximate, Result, Tensor};

pub(crate) type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'a;
pub(crate) type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

thread_local! {
    /// Per type (f32, f64): the largest share of the tolerance any element used, and the largest
    /// relative difference among elements not dominated by cancellation (|theirs| ≥ 1e-3 of the
    /// tensor's largest), for the report each test prints (`--nocapture`).
    static WORST: Cell<[f64; 4]> = const { Cell::new([0.0; 4]) };
}

/// [`assert_close_excusing`] at the type's tolerance, remembering the worst differences. `pointwise` holds
/// the op's name, the pass and its input's values when each output element comes from the input element at
/// the same index, so that the known libtorch variants at single points can be excused.
pub(crate) fn close<T: Both>(ours: &[T], theirs: &[T], what: &str, pointwise: Option<(&str, Pass, &[T])>) {
    assert_close_excusing(ours, theirs, T::RTOL, what, |i, a, b| {
        let (op, pass, inputs) = pointwise?;
        excused(op, pass, inputs[i].to_f64().unwrap(), a, b)
    });
    let scale = theirs.iter().map(|v| v.to_f64().unwrap().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let at = if T::EPS == f64::EPSILON { 2 } else { 0 };
    let mut worst = WORST.with(Cell::get);
    for (a, b) in ours.iter().zip(theirs) {
        let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
        if a != b && a.is_finite() && b.is_finite() {
            let allowed = T::RTOL * b.abs() + 16.0 * T::EPS * scale;
            worst[at] = worst[at].max((a - b).abs() / allowed);
            if b.abs() >= 1e-3 * scale {
                worst[at + 1] = worst[at + 1].max((a - b).abs() / b.abs());
            }
        }
    }
    WORST.with(|w| w.set(worst));
}

pub(crate) fn report(test: &str) {
    let [f32_used, f32_rel, f64_used, f64_rel] = WORST.with(|w| w.replace([0.0; 4]));
    eprintln!(
        "{test}: f32 worst relative difference {f32_rel:.2e} ({:.0}% of the tolerance at most), \
         f64 {f64_rel:.2e} ({:.0}%)",
        f32_used * 100.0,
        f64_used * 100.0
    );
}

/// How a leaf lies in memory; both libraries get the same layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Lay {
    Contiguous,
    /// The last two dims transposed: a `[.., c, r]` buffer seen as `[.., r, c]` (rank < 2: `Narrowed`).
    Transposed,
    /// A window of the last dim of a wider buffer: `[.., n + 3]` narrowed to `[.., n]` from 1.
    Narrowed,
}

pub(crate) const LAYS: [Lay; 3] = [Lay::Contiguous, Lay::Transposed, Lay::Narrowed];

/// The same leaf in both libraries.
pub(crate) struct Leaf<T: Both>(pub(crate) Tensor<T>, pub(crate) tch::Tensor);

impl<T: Both> Clone for Leaf<T> {
    fn clone(&self) -> Self {
        Leaf(self.0.clone(), self.1.shallow_clone())
    }
}

/// A leaf of `shape` in both libraries, laid out as `lay`, its buffer filled by `value`.
pub(crate) fn leaf<T: Both>(shape: &[usize], lay: Lay, value: &mut dyn FnMut() -> f64) -> Leaf<T> {
    let rank = shape.len();
    let lay = match lay {
        Lay::Transposed if rank >= 2 => Lay::Transposed,
        Lay::Transposed | Lay::Narrowed if rank >= 1 => Lay::Narrowed,
        _ => Lay::Contiguous,
    };
    let mut buffer = shape.to_vec();
    match lay {
        Lay::Contiguous => {}
        Lay::Transposed => buffer.swap(rank - 2, rank - 1),
        Lay::Narrowed => buffer[rank - 1] += 3,
    }
    let data: Vec<T> = (0..buffer.iter().product()).map(|_| T::from_f64(value()).unwrap()).collect();
    let ours = Tensor::from_vec(data.clone(), &buffer).unwrap();
    let dims: Vec<i64> = buffer.iter().map(|&d| d as i64).collect();
    let theirs = tch::Tensor::from_slice(&data).reshape(&dims);
    let last = shape.last().copied().unwrap_or(0);
    let (ours, theirs) = match lay {
        Lay::Contiguous => (ours, theirs),
        Lay::Transposed => (ours.transpose(-2, -1).unwrap(), theirs.transpose(-2, -1)),
        Lay::Narrowed => (ours.narrow(-1, 1, last).unwrap(), theirs.narrow(-1, 1, last as i64)),
    };
    Leaf(ours.detach().requires_grad_(true).unwrap(), theirs.detach().set_requires_grad(true))
}

pub(crate) fn uniform(rng: &mut StdRng, lo: f64, hi: f64) -> impl FnMut() -> f64 + '_ {
    move || rng.random_range(lo..hi)
}

/// Runs an op in both libraries on the same leaves, then backward with the same output weights, and
/// compares the outputs and every leaf's gradient (shape and values).
pub(crate) fn parity<T: Both>(name: &str, leaves: &[Leaf<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
    let (our_leaves, their_leaves): (Vec<Tensor<T>>, Vec<tch::Tensor>) =
        leaves.iter().map(|Leaf(a, b)| (a.clone(), b.shallow_clone())).unzip();
    let out = ours(&our_leaves).unwrap_or_else(|e| panic!("{name}: {e}"));
    let torch_out = theirs(&their_leaves);
    assert_eq!(out.shape(), shape_of(&torch_out).as_slice(), "{name}: output shape");
    // An op of one leaf whose output has the leaf's shape is compared point by point (the op's name is the
    // label up to " of ").
    let input = match our_leaves.as_slice() {
        [x] if x.shape() == out.shape() => Some(x.to_vec().unwrap()),
        _ => None,
    };
    let op = name.split(" of ").next().unwrap_or(name);
    let pointwise = |pass| input.as_deref().map(|x| (op, pass, x));
    close(&out.to_vec().unwrap(), &values::<T>(&torch_out), &format!("{name} forward"), pointwise(Pass::Forward));
    if !torch_out.requires_grad() {
        assert!(!out.requires_grad(), "{name}: libtorch's output has no history, ours does");
        return;
    }

    let n = out.numel();
    let weights: Vec<T> = (0..n).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5).unwrap()).collect();
    let w = Tensor::from_vec(weights, out.shape()).unwrap();
    out.mul(&w).unwrap().sum().unwrap().backward().unwrap_or_else(|e| panic!("{name} backward: {e}"));
    (torch_out * to_tch(&w)).sum(None).backward();
    for (i, (ours, theirs)) in our_leaves.iter().zip(&their_leaves).enumerate() {
        let theirs = theirs.grad();
        let zeros = vec![T::zero(); ours.numel()];
        let expected = if theirs.defined() { values::<T>(&theirs) } else { zeros.clone() };
        let got = match ours.grad() {
            Some(g) => {
                assert_eq!(g.shape(), ours.shape(), "{name}: gradient shape of input {i}");
                g.to_vec().unwrap()
            }
            None => zeros,
        };
        close(&got, &expected, &format!("{name} grad {i}"), pointwise(Pass::Gradient));
    }
    // The leaves are reused: clear what this op accumulated.
    for (ours, theirs) in our_leaves.iter().zip(&their_leaves) {
        ours.zero_grad();
        let mut g = theirs.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

/// Both libraries refuse, or neither does.
pub(crate) fn both_fail<A, B: std::fmt::Debug>(
    name: &str,
    ours: Result<A>,
    theirs: std::result::Result<B, tch::TchError>,
) {
    match (ours, theirs) {
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("{name}: libtorch refuses ({e}), torchlet accepts"),
        (Err(e), Ok(_)) => panic!("{name}: torchlet refuses ({e}), libtorch accepts"),
        (Ok(_), Ok(t)) => panic!("{name}: both accept, expected both to refuse: {t:?}"),
    }
}

pub(crate) fn kind<T: Both>() -> tch::Kind {
    <T as tch::kind::Element>::KIND
}

pub(crate) fn indices(picks: &[usize]) -> tch::Tensor {
    tch::Tensor::from_slice(&picks.iter().map(|&i| i as i64).collect::<Vec<_>>())
}
