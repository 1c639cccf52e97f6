//! Finite-difference gradient checks in f64 for the small-model ops and losses, on random shapes. Values
//! stay away from the kinks (relu at 0, clamp bounds), where finite differences are meaningless and the
//! libtorch parity tests pin torch's conventions instead.

#![allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads as the one-input list every check takes.

use crate::prop_gradcheck as check;
use proptest::prelude::*;
use torchlet::nn::functional as F;
use torchlet::nn::{CrossEntropyLoss, Reduction};
use torchlet::{cat, where_, GeluApproximate, Tensor};

/// A `[rows, cols]` tensor with values of magnitude in `[0.1, 2]` and either sign.
fn matrix() -> impl Strategy<Value = Tensor<f64>> {
    (1usize..4, 2usize..5).prop_flat_map(|(r, c)| {
        proptest::collection::vec((0.1f64..2.0, any::<bool>()), r * c).prop_map(move |v| {
            Tensor::from_vec(v.into_iter().map(|(m, s)| if s { m } else { -m }).collect(), &[r, c]).unwrap()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn activations(x in matrix()) {
        check(&[x.clone()], |t| t[0].relu())?;
        check(&[x.clone()], |t| t[0].leaky_relu(0.1))?;
        check(&[x.clone()], |t| t[0].sigmoid())?;
        check(&[x.clone()], |t| t[0].tanh())?;
        check(&[x.clone()], |t| t[0].gelu(GeluApproximate::None))?;
        check(&[x.clone()], |t| t[0].gelu(GeluApproximate::Tanh))?;
        check(&[x.clone()], |t| t[0].silu())?;
        check(&[x.clone()], |t| t[0].softplus(2.0, 20.0))?;
        check(&[x.clone()], |t| t[0].elu(1.5))?;
        check(&[x.clone()], |t| t[0].abs()?.log1p())?;
        check(&[x], |t| t[0].clamp(Some(-2.5), Some(2.5)))?;
    }

    #[test]
    fn softmax_family_and_reductions(x in matrix(), dim in 0isize..2) {
        check(&[x.clone()], |t| t[0].softmax(dim))?;
        check(&[x.clone()], |t| t[0].log_softmax(dim))?;
        check(&[x.clone()], |t| t[0].logsumexp(dim, false))?;
        check(&[x.clone()], |t| t[0].var_dim(dim, 0, true))?;
        check(&[x.clone()], |t| t[0].std_dim(dim, 0, false))?;
        check(&[x.clone()], |t| t[0].norm(2.0))?;
        check(&[x.clone()], |t| t[0].norm(1.0))?;
        // Random values have no ties, so max has a unique derivative.
        check(&[x.clone()], |t| Ok(t[0].max_dim(dim, false)?.0))?;
        check(&[x], |t| t[0].min())?;
    }

    #[test]
    fn selection_and_joining(x in matrix(), y in matrix()) {
        let cols = x.shape()[1];
        let idx = Tensor::from_vec((0..x.shape()[0] * 2).map(|i| (i % cols) as f64).collect(), &[x.shape()[0], 2]).unwrap();
        check(&[x.clone()], |t| t[0].gather(1, &idx))?;
        check(&[x.clone(), x.t().unwrap().t().unwrap()], |t| {
            let cond = t[0].detach().gt(&Tensor::scalar(0.0))?;
            where_(&cond, &t[0], &t[1].mul_scalar(3.0)?)
        })?;
        if y.shape()[1] == cols {
            check(&[x.clone(), y], |t| cat(&[t[0].clone(), t[1].clone()], 0))?;
        }
        check(&[x], |t| t[0].maximum(&t[0].mul_scalar(0.5)?))?;
    }

    #[test]
    fn losses(x in matrix(), y in matrix()) {
        let (n, c) = (x.shape()[0], x.shape()[1]);
        let labels: Vec<usize> = (0..n).map(|i| (i * 7) % c).collect();
        for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
            let ce = CrossEntropyLoss { reduction, label_smoothing: 0.1, ..CrossEntropyLoss::new() };
            check(&[x.clone()], |t| ce.forward(&t[0], &labels))?;
            // Probabilities of the logits' shape, independent of them.
            let probs = x.detach().mul_scalar(-1.3).unwrap().softmax(1).unwrap();
            check(&[x.clone()], |t| ce.forward(&t[0], &probs))?;
            check(&[x.clone()], |t| F::nll_loss(&t[0].log_softmax(1)?, &labels, None, None, reduction))?;
            check(&[x.sigmoid().unwrap()], |t| F::binary_cross_entropy(&t[0], &probs, None, reduction))?;
            check(&[x.clone()], |t| F::binary_cross_entropy_with_logits(&t[0], &probs, None, None, reduction))?;
            if x.shape() == y.shape() {
                check(&[x.clone(), y.clone()], |t| F::huber_loss(&t[0], &t[1], reduction, 0.5))?;
                check(&[x.clone(), y.clone()], |t| F::smooth_l1_loss(&t[0], &t[1], reduction, 0.5))?;
            }
        }
    }
}
