//! NaN and the infinities, forward and backward; the 0/0 of a cross-entropy mean over weights that sum to 0.

use super::harness::*;
use super::noncontiguous::{binary_ops, positive_ops, unary_ops};
use torchlet::nn::CrossEntropyLoss;

pub(crate) const SPECIAL: [f64; 6] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.5, 2.0];

/// A `[6, 6]` leaf whose rows are rotations of [`SPECIAL`], so every pair of special values meets in
/// a binary op of it with its transpose.
pub(crate) fn special<T: Both>(lay: Lay) -> Leaf<T> {
    let mut i = 0;
    let mut value = || {
        let (row, col) = (i / 6, i % 6);
        i += 1;
        SPECIAL[(row + col) % 6]
    };
    leaf::<T>(&[6, 6], lay, &mut value)
}

pub(crate) fn non_finite<T: Both>() {
    for lay in LAYS {
        let x = [special::<T>(lay)];
        let name = |op: &str| format!("{op} of NaN and infinities ({lay:?})");
        // Where libtorch's kernels disagree with one another at a point (ELU's gradient at NaN, GELU at +inf),
        // that point is excused by name: see tests/common/variants.rs.
        for (op, ours, theirs) in unary_ops::<T>().into_iter().chain(positive_ops::<T>()) {
            parity(&name(op), &x, &*ours, &*theirs);
        }
        for (op, ours, theirs) in binary_ops::<T>() {
            parity(&name(op), &x, &|x| ours(&[x[0].clone(), x[0].t()?]), &|x| {
                theirs(&[x[0].shallow_clone(), x[0].tr()])
            });
        }
        parity(&name("sum"), &x, &|x| x[0].sum(), &|x| x[0].sum(None));
        parity(&name("mean"), &x, &|x| x[0].mean(), &|x| x[0].mean(None));
        parity(&name("max"), &x, &|x| x[0].max(), &|x| x[0].max());
        parity(&name("min"), &x, &|x| x[0].min(), &|x| x[0].min());
        let k = kind::<T>();
        for d in [0i64, 1, -1] {
            let di = d as isize;
            let name = |op: &str| name(&format!("{op}({d})"));
            parity(&name("sum_dim"), &x, &|x| x[0].sum_dim(di, false), &|x| x[0].sum_dim_intlist(d, false, None));
            parity(&name("max_dim"), &x, &|x| Ok(x[0].max_dim(di, false)?.0), &|x| x[0].max_dim(d, false).0);
            parity(&name("min_dim"), &x, &|x| Ok(x[0].min_dim(di, false)?.0), &|x| x[0].min_dim(d, false).0);
            parity(&name("argmax"), &x, &|x| x[0].argmax(di, false), &|x| x[0].argmax(d, false).to_kind(k));
            parity(&name("argmin"), &x, &|x| x[0].argmin(di, false), &|x| x[0].argmin(d, false).to_kind(k));
            parity(&name("softmax"), &x, &|x| x[0].softmax(di), &|x| x[0].softmax(d, None));
            parity(&name("log_softmax"), &x, &|x| x[0].log_softmax(di), &|x| x[0].log_softmax(d, None));
        }
        // A row without NaN but with both infinities: max is +∞; softmax is NaN throughout in libtorch
        // (+∞ - +∞ in the shift), where the limit would be one-hot.
        let rows = |x: &Tensor<T>| x.narrow(0, 1, 1).and_then(|r| r.narrow(1, 0, 5));
        parity(&name("max of a row with one +inf"), &x, &|x| rows(&x[0])?.max(), &|x| {
            x[0].narrow(0, 1, 1).narrow(1, 0, 5).max()
        });
        parity(&name("softmax of a row with one +inf"), &x, &|x| rows(&x[0])?.softmax(1), &|x| {
            x[0].narrow(0, 1, 1).narrow(1, 0, 5).softmax(1, None)
        });
    }
}

#[test]
fn nan_and_infinities() {
    non_finite::<f32>();
    non_finite::<f64>();
    report("nan_and_infinities");
}

/// Class-weighted cross-entropy (mean) whose counted samples all weigh 0: the loss is 0/0 and the gradient
/// 0 · ∞ in libtorch, ignored samples aside; with nll_loss, label smoothing and every sample ignored.
pub(crate) fn zero_total_weight<T: Both>() {
    let mut rng = StdRng::seed_from_u64(11);
    let labels = [0usize, 2, 0, 3];
    let target = indices(&labels);
    let weight = Tensor::<T>::from_vec([0.0, 1.5, 0.0, 0.0].map(|w| T::from_f64(w).unwrap()).to_vec(), &[4]).unwrap();
    let their_weight = to_tch(&weight);
    for lay in LAYS {
        let x = [leaf::<T>(&[4, 4], lay, &mut uniform(&mut rng, -2.0, 2.0))];
        for (ignore, smoothing) in [(None, 0.0), (Some(2), 0.0), (None, 0.2), (Some(3), 0.1)] {
            let ce = CrossEntropyLoss {
                weight: Some(weight.clone()),
                ignore_index: ignore,
                reduction: Reduction::Mean,
                label_smoothing: smoothing,
            };
            let ignore_t = ignore.map_or(-100, |i| i as i64);
            let name = format!(
                "cross_entropy, weight 0 for every counted class ({lay:?}, ignore {ignore:?}, smoothing {smoothing})"
            );
            parity(&name, &x, &|t| ce.forward(&t[0], &labels[..]), &|t| {
                t[0].cross_entropy_loss(&target, Some(&their_weight), tch::Reduction::Mean, ignore_t, smoothing)
            });
            parity(
                &format!("nll_loss of {name}"),
                &x,
                &|t| F::nll_loss(&t[0].log_softmax(1)?, &labels, Some(&weight), ignore, Reduction::Mean),
                &|t| t[0].log_softmax(1, None).g_nll_loss(&target, Some(&their_weight), tch::Reduction::Mean, ignore_t),
            );
        }
        let all = [1usize; 4];
        let ce = CrossEntropyLoss { ignore_index: Some(1), ..CrossEntropyLoss::new() };
        parity(&format!("cross_entropy, every sample ignored ({lay:?})"), &x, &|t| ce.forward(&t[0], &all[..]), &|t| {
            t[0].cross_entropy_loss::<&tch::Tensor>(&indices(&all), None, tch::Reduction::Mean, 1, 0.0)
        });
    }
}

#[test]
fn cross_entropy_with_zero_total_weight() {
    zero_total_weight::<f32>();
    zero_total_weight::<f64>();
    report("cross_entropy_with_zero_total_weight");
}
