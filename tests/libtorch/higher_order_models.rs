//! Parity with libtorch for the second derivatives of products, reductions, views, the softmax family,
//! selections, every loss and the normalisations, in f32 and f64 (the harness is in `higher_order.rs`).

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn higher_order_model_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{to_tch, Both};
    use crate::higher_order::parity::{derivatives, random, second, tensor, Ours, Theirs, Tol};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use torchlet::nn::functional as F;
    use torchlet::nn::Reduction;
    use torchlet::{cat, where_, Tensor};

    fn products_reductions_and_views<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (x, w, b) = (
            random::<T>(&[3, 4], -2.0, 2.0, &mut rng),
            random::<T>(&[2, 4], -1.0, 1.0, &mut rng),
            random::<T>(&[2], -1.0, 1.0, &mut rng),
        );
        let xwb = [x.clone(), w.clone(), b.clone()];
        second("linear", &xwb, &|t| t[0].linear(&t[1], Some(&t[2]))?.tanh(), &|t| {
            t[0].linear(&t[1], Some(&t[2])).tanh()
        });
        second("matmul", &[x.clone(), w.t().unwrap()], &|t| t[0].matmul(&t[1])?.square(), &|t| {
            t[0].matmul(&t[1]).square()
        });
        let x1 = [x.clone()];
        second("sum", &x1, &|t| t[0].sum()?.square(), &|t| t[0].sum(None).square());
        second("mean dim", &x1, &|t| t[0].mean_dim(1, false)?.exp(), &|t| t[0].mean_dim(1, false, None).exp());
        second("sum dim", &x1, &|t| t[0].sum_dim(0, true)?.tanh(), &|t| t[0].sum_dim_intlist(0, true, None).tanh());
        second("var", &x1, &|t| t[0].var_dim(1, 1, false), &|t| t[0].var_dim(&[1i64][..], true, false));
        second("std", &x1, &|t| t[0].std_dim(0, 1, false), &|t| t[0].std_dim(&[0i64][..], true, false));
        second("norm 2", &x1, &|t| t[0].norm(2.0), &|t| t[0].norm());
        second("max_dim", &x1, &|t| t[0].max_dim(1, false)?.0.square(), &|t| t[0].max_dim(1, false).0.square());
        let ties = [tensor::<T>(&[2.0, -1.0, 2.0, 0.5], &[4])];
        second("max with ties", &ties, &|t| t[0].max()?.mul(&t[0].sum()?), &|t| t[0].max() * t[0].sum(None));
        second("logsumexp", &x1, &|t| t[0].logsumexp(1, false), &|t| t[0].logsumexp([1], false));
        second("softmax", &x1, &|t| t[0].softmax(1), &|t| t[0].softmax(1, T::KIND));
        second("log_softmax", &x1, &|t| t[0].log_softmax(0), &|t| t[0].log_softmax(0, T::KIND));
        let wide = [tensor::<T>(&[1000.0, -1000.0, 0.0, 3.0, 1000.0, 1000.0], &[2, 3])];
        second("log_softmax ±1000", &wide, &|t| t[0].log_softmax(1), &|t| t[0].log_softmax(1, T::KIND));
        second("softmax ±1000", &wide, &|t| t[0].softmax(1), &|t| t[0].softmax(1, T::KIND));
        second("transpose", &x1, &|t| t[0].t()?.square()?.narrow(0, 1, 2), &|t| {
            t[0].transpose(0, 1).square().narrow(0, 1, 2)
        });
        second("reshape expand", &x1, &|t| t[0].reshape(&[4, 3])?.unsqueeze(0)?.expand(&[2, 4, 3])?.exp(), &|t| {
            t[0].reshape([4, 3]).unsqueeze(0).expand([2, 4, 3], false).exp()
        });
        second("cat", &[x.clone(), w.clone()], &|t| cat(&[t[0].square()?, t[1].clone()], 0)?.tanh(), &|t| {
            tch::Tensor::cat(&[t[0].square(), t[1].shallow_clone()], 0).tanh()
        });
        let idx = [2usize, 0, 2];
        let tidx = tch::Tensor::from_slice(&[2i64, 0, 2]);
        second("index_select", &x1, &|t| t[0].index_select(0, &idx)?.square(), &|t| {
            t[0].index_select(0, &tidx).square()
        });
        let gidx = tensor::<T>(&[3.0, 0.0, 1.0, 1.0, 2.0, 2.0], &[3, 2]);
        let tg = tch::Tensor::from_slice(&[3i64, 0, 1, 1, 2, 2]).reshape([3, 2]);
        second("gather", &x1, &|t| t[0].gather(1, &gidx)?.exp(), &|t| t[0].gather(1, &tg, false).exp());
        let cond = x.gt(&Tensor::scalar(T::zero())).unwrap();
        let tcond = to_tch(&cond).to_kind(tch::Kind::Bool);
        second(
            "where",
            &[x.clone(), w.sum_dim(0, true).unwrap().narrow(1, 0, 4).unwrap()],
            &|t| where_(&cond, &t[0].square()?, &t[1].exp()?),
            &|t| t[0].square().where_self(&tcond, &t[1].exp()),
        );
    }

    fn losses<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let reductions = [
            (Reduction::Mean, tch::Reduction::Mean),
            (Reduction::Sum, tch::Reduction::Sum),
            (Reduction::None, tch::Reduction::None),
        ];
        let (n, c) = (4, 3);
        let logits = random::<T>(&[n, c], -3.0, 3.0, &mut rng);
        // Differences at 0 and at ±δ exactly: the kinks of L1, Huber and smooth L1.
        let target = logits
            .add(&tensor::<T>(&[0.0, 0.7, -0.7, 0.3, -2.0, 1.0, 0.0, 0.5, -0.1, 0.7, 2.5, -0.7], &[n, c]))
            .unwrap();
        let probs = random::<T>(&[n, c], 0.05, 0.95, &mut rng);
        let soft = random::<T>(&[n, c], 0.0, 1.0, &mut rng);
        let labels = [2usize, 0, 1, 1];
        let tlabels = tch::Tensor::from_slice(&[2i64, 0, 1, 1]);
        let weight = tensor::<T>(&[0.5, 1.0, 2.0], &[c]);
        let w = to_tch(&weight);
        for (ours, theirs) in reductions {
            let pair = [logits.clone(), target.clone()];
            second("mse", &pair, &|t| F::mse_loss(&t[0], &t[1], ours)?.exp(), &|t| t[0].mse_loss(&t[1], theirs).exp());
            second("l1", &pair, &|t| F::l1_loss(&t[0], &t[1], ours), &|t| t[0].l1_loss(&t[1], theirs));
            second("huber", &pair, &|t| F::huber_loss(&t[0], &t[1], ours, 0.7), &|t| {
                t[0].huber_loss(&t[1], theirs, 0.7)
            });
            second("smooth_l1", &pair, &|t| F::smooth_l1_loss(&t[0], &t[1], ours, 0.7), &|t| {
                t[0].smooth_l1_loss(&t[1], theirs, 0.7)
            });
            let x = [logits.clone()];
            for smoothing in [0.0, 0.2] {
                let ce = torchlet::nn::CrossEntropyLoss {
                    weight: Some(weight.clone()),
                    reduction: ours,
                    label_smoothing: smoothing,
                    ..Default::default()
                };
                second("cross_entropy", &x, &|t| ce.forward(&t[0], &labels), &|t| {
                    t[0].cross_entropy_loss(&tlabels, Some(&w), theirs, -100, smoothing)
                });
                second("cross_entropy probabilities", &x, &|t| ce.forward(&t[0], &probs), &|t| {
                    t[0].cross_entropy_loss(&to_tch(&probs), Some(&w), theirs, -100, smoothing)
                });
            }
            second(
                "nll of log_softmax",
                &x,
                &|t| F::nll_loss(&t[0].log_softmax(1)?, &labels, Some(&weight), None, ours),
                &|t| t[0].log_softmax(1, T::KIND).g_nll_loss(&tlabels, Some(&w), theirs, -100),
            );
            let pw = tensor::<T>(&[2.0, 0.5, 1.0], &[c]);
            let tpw = to_tch(&pw);
            second(
                "bce_with_logits",
                &x,
                &|t| F::binary_cross_entropy_with_logits(&t[0], &soft, Some(&weight), Some(&pw), ours),
                &|t| t[0].binary_cross_entropy_with_logits(&to_tch(&soft), Some(&w), Some(&tpw), theirs),
            );
            // torch's hand-written double backward of BCE divides by (x + 1e-12)²(1 − x + 1e-12)², where
            // autograd differentiates (x − y)/max((1 − x) x, 1e-12): about 1e-12 relative apart in (0, 1).
            let bce_rtol = if std::mem::size_of::<T>() == 8 { 1e-9 } else { 10.0 * T::RTOL };
            derivatives(
                "bce",
                &[probs.clone(), soft.clone()],
                2,
                Tol { rtol: bce_rtol, of_scale: 0.0 },
                &|t| F::binary_cross_entropy(&t[0], &t[1], Some(&weight), ours),
                &|t| t[0].binary_cross_entropy(&t[1], Some(&w), theirs),
            );
        }
    }

    fn normalization<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = random::<T>(&[4, 3, 2], -2.0, 2.0, &mut rng);
        let (g, b) = (random::<T>(&[3], 0.5, 1.5, &mut rng), random::<T>(&[3], -1.0, 1.0, &mut rng));
        // Normalisations' gradients are differences of terms that cancel: the tolerance of tests/libtorch/norm.rs,
        // relative to each gradient's magnitude.
        let rtol = if std::mem::size_of::<T>() == 8 { 1e-12 } else { 1e-4 };
        let tol = Tol { rtol, of_scale: rtol };
        let second = |name: &str, inputs: &[Tensor<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>| {
            derivatives(name, inputs, 2, tol, ours, theirs)
        };
        let inputs = [x.clone(), g.clone(), b.clone()];
        second(
            "batch_norm",
            &inputs,
            &|t| F::batch_norm(&t[0], None, None, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5)?.square(),
            &|t| t[0].batch_norm(Some(&t[1]), Some(&t[2]), None, None, true, 0.1, 1e-5, false).square(),
        );
        // Over [3, 2]: over two elements a layer norm is ±1 whatever its input, and its gradient rounding noise.
        let (lg, lb) = (random::<T>(&[3, 2], 0.5, 1.5, &mut rng), random::<T>(&[3, 2], -1.0, 1.0, &mut rng));
        second(
            "layer_norm",
            &[x.clone(), lg, lb],
            &|t| F::layer_norm(&t[0], &[3, 2], Some(&t[1]), Some(&t[2]), 1e-5)?.square(),
            &|t| t[0].layer_norm([3, 2], Some(&t[1]), Some(&t[2]), 1e-5, false).square(),
        );
        second(
            "group_norm",
            &[random::<T>(&[2, 4, 3], -2.0, 2.0, &mut rng)],
            &|t| F::group_norm(&t[0], 2, None, None, 1e-5)?.square(),
            &|t| t[0].group_norm(2, None::<tch::Tensor>, None::<tch::Tensor>, 1e-5, false).square(),
        );
    }

    #[test]
    fn product_reduction_and_view_second_derivatives() {
        products_reductions_and_views::<f64>(3);
        products_reductions_and_views::<f32>(4);
    }

    #[test]
    fn loss_second_derivatives() {
        losses::<f64>(5);
        losses::<f32>(6);
    }

    #[test]
    fn normalization_second_derivatives() {
        normalization::<f64>(7);
        normalization::<f32>(8);
    }
}
