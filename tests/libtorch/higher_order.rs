//! Parity with libtorch for gradients of gradients: each op's second derivatives (and the third for tanh,
//! sigmoid, exp and a product), taken as torch takes them — `create_graph`, then a backward through the
//! gradient — at special points (kinks, ±0, ties, large and infinite values) and on random inputs, in f32
//! and f64. `tch::Tensor::run_backward(outputs, inputs, keep_graph, create_graph)` is torch's
//! `autograd.grad` here.

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn higher_order_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{assert_close, shape_of, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::autograd::{grad_with, GradOptions};
    use torchlet::nn::functional as F;
    use torchlet::nn::Reduction;
    use torchlet::{cat, where_, GeluApproximate, Result, Tensor};

    type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'a;
    type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

    /// Fixed weights for a tensor of `n` elements, a different pattern for each `salt`.
    fn weights<T: Both>(shape: &[usize], salt: usize) -> Tensor<T> {
        let n = shape.iter().product::<usize>();
        let w = (0..n).map(|i| T::from_f64(0.25 + ((i + 3 * salt) % 7) as f64 * 0.5).unwrap()).collect();
        Tensor::from_vec(w, shape).unwrap()
    }

    /// How close two derivatives must be, elementwise: `rtol·|b| + of_scale·max|b|` (and [`assert_close`]'s
    /// floor of 16 ulps of `max|b|`). `of_scale` is for gradients that are differences of terms that cancel
    /// (normalisations), whose rounding scales with the tensor's magnitude, not the element's.
    #[derive(Clone, Copy)]
    struct Tol {
        rtol: f64,
        of_scale: f64,
    }

    fn close<T: Both>(ours: &[T], theirs: &[T], tol: Tol, what: &str) {
        if tol.of_scale == 0.0 {
            return assert_close(ours, theirs, tol.rtol, what);
        }
        let scale = theirs.iter().map(|v| v.to_f64().unwrap().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
            let allowed = tol.rtol * b.abs() + (tol.of_scale + 16.0 * T::EPS) * scale;
            assert!((a - b).abs() <= allowed, "{what}[{i}]: torchlet {a} vs libtorch {b} (allowed {allowed:.3e})");
        }
    }

    /// The derivatives of `Σ w · f(x)` up to `order` in both libraries, each order the gradient of `Σ v ·
    /// (the previous gradients)`, compared input by input within `tol`. Where a gradient
    /// carries no graph in one library it must carry none in the other (its derivative is then 0 in both,
    /// and the comparison stops there).
    fn derivatives<T: Both>(
        name: &str,
        inputs: &[Tensor<T>],
        order: usize,
        tol: Tol,
        ours: &Ours<'_, T>,
        theirs: &Theirs<'_>,
    ) {
        let leaves: Vec<Tensor<T>> =
            inputs.iter().map(|x| x.detach().deep_clone().unwrap().requires_grad_(true).unwrap()).collect();
        let torch_leaves: Vec<tch::Tensor> = inputs.iter().map(|x| to_tch(x).set_requires_grad(true)).collect();
        let refs: Vec<&Tensor<T>> = leaves.iter().collect();
        let out = ours(&leaves).unwrap_or_else(|e| panic!("{name}: {e}"));
        let torch_out = theirs(&torch_leaves);
        assert_eq!(out.shape(), shape_of(&torch_out).as_slice(), "{name}: output shape");
        let w = weights::<T>(out.shape(), 0);
        let mut current = out.mul(&w).unwrap().sum().unwrap();
        let mut torch_current = (torch_out * to_tch(&w)).sum(None);
        for k in 1..=order {
            let create_graph = k < order;
            let options = GradOptions::new().create_graph(create_graph).allow_unused(true);
            let grads = grad_with(&[&current], &refs, &options).unwrap_or_else(|e| panic!("{name} order {k}: {e}"));
            let torch_grads = tch::Tensor::run_backward(&[&torch_current], &torch_leaves, true, create_graph);
            let mut next: Option<Tensor<T>> = None;
            let mut torch_next: Option<tch::Tensor> = None;
            for (i, ((g, leaf), tg)) in grads.iter().zip(&leaves).zip(&torch_grads).enumerate() {
                let g = g.clone().unwrap_or_else(|| leaf.zeros_like().unwrap());
                // An undefined gradient, or torch's storage-less zero tensor (abs'' is one), is zeros.
                let zero = !tg.defined() || tg.internal_is_zerotensor();
                let tg_values = if zero { vec![T::zero(); leaf.numel()] } else { values::<T>(tg) };
                close(&g.to_vec().unwrap(), &tg_values, tol, &format!("{name} order {k} input {i}"));
                if !create_graph {
                    continue;
                }
                let torch_has_graph = tg.defined() && tg.requires_grad();
                assert_eq!(g.requires_grad(), torch_has_graph, "{name} order {k} input {i}: has a graph");
                if g.requires_grad() {
                    let v = weights::<T>(leaf.shape(), k + i);
                    let term = g.mul(&v).unwrap().sum().unwrap();
                    next = Some(match next {
                        Some(n) => n.add(&term).unwrap(),
                        None => term,
                    });
                    let torch_term = (tg * to_tch(&v)).sum(None);
                    torch_next = Some(match torch_next {
                        Some(n) => n + torch_term,
                        None => torch_term,
                    });
                }
            }
            if !create_graph {
                break;
            }
            match (next, torch_next) {
                (Some(n), Some(t)) => (current, torch_current) = (n, t),
                _ => break,
            }
        }
    }

    fn second<T: Both>(name: &str, inputs: &[Tensor<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
        derivatives(name, inputs, 2, Tol { rtol: 10.0 * T::RTOL, of_scale: 0.0 }, ours, theirs);
    }

    fn tensor<T: Both>(v: &[f64], shape: &[usize]) -> Tensor<T> {
        Tensor::from_vec(v.iter().map(|&x| T::from_f64(x).unwrap()).collect(), shape).unwrap()
    }

    fn random<T: Both>(shape: &[usize], lo: f64, hi: f64, rng: &mut StdRng) -> Tensor<T> {
        let data = (0..shape.iter().product()).map(|_| T::from_f64(rng.random_range(lo..hi)).unwrap()).collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    /// Every elementwise op at its special points: the kinks and ±0, where torch's conventions (relu'' = 0,
    /// |x|'' = 0, the clamp's closed bounds) decide, and large values.
    fn pointwise_special_points<T: Both>() {
        let big = if std::mem::size_of::<T>() == 4 { 80.0 } else { 700.0 };
        let points = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 10.0, 20.0, 25.0, -25.0, big, -big];
        let x = [tensor::<T>(&points, &[points.len()])];
        let c = |v: f64| T::from_f64(v).unwrap();
        second("neg·x", &x, &|t| t[0].neg()?.mul(&t[0]), &|t| -&t[0] * &t[0]);
        second("square", &x, &|t| t[0].square(), &|t| t[0].square());
        second("exp", &x, &|t| t[0].exp(), &|t| t[0].exp());
        second("abs", &x, &|t| t[0].abs(), &|t| t[0].abs());
        second("abs·x", &x, &|t| t[0].abs()?.mul(&t[0]), &|t| t[0].abs() * &t[0]);
        second("sign·x²", &x, &|t| t[0].sign()?.mul(&t[0].square()?), &|t| t[0].sign() * t[0].square());
        second("relu", &x, &|t| t[0].relu(), &|t| t[0].relu());
        second("relu·x", &x, &|t| t[0].relu()?.mul(&t[0]), &|t| t[0].relu() * &t[0]);
        second("leaky_relu", &x, &|t| t[0].leaky_relu(c(0.01)), &|t| t[0].leaky_relu());
        second("leaky_relu²", &x, &|t| t[0].leaky_relu(c(0.01))?.square(), &|t| t[0].leaky_relu().square());
        second("clamp·x", &x, &|t| t[0].clamp(Some(c(-1.0)), Some(c(0.5)))?.mul(&t[0]), &|t| {
            t[0].clamp(-1.0, 0.5) * &t[0]
        });
        second("sigmoid", &x, &|t| t[0].sigmoid(), &|t| t[0].sigmoid());
        second("tanh", &x, &|t| t[0].tanh(), &|t| t[0].tanh());
        second("gelu", &x, &|t| t[0].gelu(GeluApproximate::None), &|t| t[0].gelu("none"));
        second("gelu tanh", &x, &|t| t[0].gelu(GeluApproximate::Tanh), &|t| t[0].gelu("tanh"));
        second("silu", &x, &|t| t[0].silu(), &|t| t[0].silu());
        // softplus at its threshold (x = 20; 2x = 20 at x = 10 for β = 2) and above it; β = 2 is softplus(2x)/2
        // in both.
        second("softplus", &x, &|t| t[0].softplus(c(1.0), c(20.0)), &|t| t[0].softplus());
        second("softplus β=2", &x, &|t| t[0].softplus(c(2.0), c(20.0)), &|t| (&t[0] * 2.0).softplus() / 2.0);
        second("elu", &x, &|t| t[0].elu(c(1.0)), &|t| t[0].elu());
        for p in [0.0, 1.0, 2.0, 3.0, -1.0, 2.5, 0.5] {
            second(&format!("pow {p}·x"), &x, &|t| t[0].powf(c(p))?.mul(&t[0]), &|t| {
                t[0].pow_tensor_scalar(p) * &t[0]
            });
        }
        for (k, v) in [(1.5, 2.0), (-2.0, 0.5)] {
            second(
                "scalar arithmetic",
                &x,
                &|t| t[0].add_scalar(c(k))?.mul_scalar(c(v))?.rsub_scalar(c(k))?.square(),
                &|t| ((&t[0] + k) * v).neg().g_add_scalar(k).square(),
            );
        }
        let positive = [tensor::<T>(&[0.0, 1e-3, 0.5, 1.0, 4.0, 1e6], &[6])];
        second("sqrt", &positive, &|t| t[0].sqrt(), &|t| t[0].sqrt());
        second("log", &positive, &|t| t[0].log(), &|t| t[0].log());
        second("log1p", &positive, &|t| t[0].log1p(), &|t| t[0].log1p());
        second("1/x", &positive, &|t| t[0].rdiv_scalar(c(2.0)), &|t| t[0].reciprocal() * 2.0);
        second("x/3", &positive, &|t| t[0].div_scalar(c(3.0))?.square(), &|t| (&t[0] / 3.0).square());
    }

    fn binary_ops<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        // Ties of maximum and minimum (half the gradient to each side), and a tensor times itself.
        let a = tensor::<T>(&[1.0, 0.0, -2.0, 3.0], &[4]);
        let b = tensor::<T>(&[1.0, 0.5, -2.0, -1.0], &[4]);
        let ab = [a, b];
        second("mul", &ab, &|t| t[0].mul(&t[1]), &|t| &t[0] * &t[1]);
        second("x·x", &ab, &|t| t[0].mul(&t[0])?.mul(&t[1]), &|t| &t[0] * &t[0] * &t[1]);
        second("maximum tie", &ab, &|t| t[0].maximum(&t[1])?.square(), &|t| t[0].maximum(&t[1]).square());
        second("minimum tie", &ab, &|t| t[0].minimum(&t[1])?.mul(&t[0]), &|t| t[0].minimum(&t[1]) * &t[0]);
        for _ in 0..4 {
            let (x, y) = (random::<T>(&[3, 4], -2.0, 2.0, &mut rng), random::<T>(&[4], 0.5, 2.0, &mut rng));
            let xy = [x, y];
            second("add", &xy, &|t| t[0].add(&t[1])?.square(), &|t| (&t[0] + &t[1]).square());
            second("sub", &xy, &|t| t[0].sub(&t[1])?.exp(), &|t| (&t[0] - &t[1]).exp());
            second("mul broadcast", &xy, &|t| t[0].mul(&t[1])?.tanh(), &|t| (&t[0] * &t[1]).tanh());
            second("div broadcast", &xy, &|t| t[0].div(&t[1]), &|t| &t[0] / &t[1]);
            second("maximum", &xy, &|t| t[0].maximum(&t[1])?.mul(&t[0]), &|t| t[0].maximum(&t[1]) * &t[0]);
        }
    }

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
        second("max_dim", &x1, &|t| Ok(t[0].max_dim(1, false)?.0.square()?), &|t| t[0].max_dim(1, false).0.square());
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

    /// The third derivative, through the graph of the second.
    fn third_order<T: Both>() {
        let x = [tensor::<T>(&[-3.0, -0.5, 0.0, 0.25, 1.0, 4.0], &[6])];
        let rtol = Tol { rtol: 100.0 * T::RTOL, of_scale: 0.0 };
        derivatives("tanh'''", &x, 3, rtol, &|t| t[0].tanh(), &|t| t[0].tanh());
        derivatives("sigmoid'''", &x, 3, rtol, &|t| t[0].sigmoid(), &|t| t[0].sigmoid());
        derivatives("exp'''", &x, 3, rtol, &|t| t[0].exp(), &|t| t[0].exp());
        let y = tensor::<T>(&[2.0, -1.0, 0.5, 3.0, -2.0, 1.0], &[6]);
        derivatives("(x·y·x)'''", &[x[0].clone(), y], 3, rtol, &|t| t[0].mul(&t[1])?.mul(&t[0]), &|t| {
            &t[0] * &t[1] * &t[0]
        });
    }

    #[test]
    fn pointwise_second_derivatives_at_special_points() {
        pointwise_special_points::<f64>();
        pointwise_special_points::<f32>();
    }

    #[test]
    fn binary_second_derivatives() {
        binary_ops::<f64>(1);
        binary_ops::<f32>(2);
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

    #[test]
    fn third_derivatives() {
        third_order::<f64>();
        third_order::<f32>();
    }
}
