//! Parity with libtorch for the small-model ops: activations, softmax family, reductions with indices,
//! selection and joining, and every loss with its options; forward and backward, f32 and f64, random
//! shapes, and the special points (kinks, ties, ±1000 logits).

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn small_model_parity_with_libtorch() {}

#[cfg(feature = "tch")]
use crate::common;

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{assert_close_excusing, shape_of, to_tch, values, Both};
    use super::common::variants::{excused, Pass};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::nn::functional as F;
    use torchlet::nn::{CrossEntropyLoss, Reduction};
    use torchlet::{cat, stack, where_, GeluApproximate, Result, Tensor};

    type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'a;
    type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

    /// Runs an op in both libraries, then backward with the same output weights; compares the outputs and
    /// the gradients of the first `n_grad` inputs.
    fn parity_n<T: Both>(name: &str, inputs: &[Tensor<T>], n_grad: usize, ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
        let leaves: Vec<Tensor<T>> = inputs
            .iter()
            .enumerate()
            .map(|(i, x)| x.detach().deep_clone().unwrap().requires_grad_(i < n_grad).unwrap())
            .collect();
        let torch_leaves: Vec<tch::Tensor> =
            inputs.iter().enumerate().map(|(i, x)| to_tch(x).set_requires_grad(i < n_grad)).collect();
        let out = ours(&leaves).unwrap_or_else(|e| panic!("{name}: {e}"));
        let torch_out = theirs(&torch_leaves);
        assert_eq!(out.shape(), shape_of(&torch_out).as_slice(), "{name}: output shape");
        // An op of one input whose output has the input's shape is compared point by point, so the known
        // libtorch variants at single points (tests/common/variants.rs) can be excused.
        let input = match leaves.as_slice() {
            [x] if x.shape() == out.shape() => Some(x.to_vec().unwrap()),
            _ => None,
        };
        let close = |ours: &[T], theirs: &[T], pass, what: &str| {
            assert_close_excusing(ours, theirs, T::RTOL, what, |i, a, b| {
                excused(name, pass, input.as_ref()?[i].to_f64().unwrap(), a, b)
            })
        };
        close(&out.to_vec().unwrap(), &values::<T>(&torch_out), Pass::Forward, &format!("{name} forward"));
        if n_grad == 0 {
            return;
        }
        let weights: Vec<T> = (0..out.numel()).map(|i| T::from_f64(0.25 + (i % 7) as f64 * 0.5).unwrap()).collect();
        let w = Tensor::from_vec(weights, out.shape()).unwrap();
        out.mul(&w).unwrap().sum().unwrap().backward().unwrap();
        (torch_out * to_tch(&w)).sum(None).backward();
        for (i, (ours, theirs)) in leaves.iter().zip(&torch_leaves).take(n_grad).enumerate() {
            let g = ours.grad().unwrap_or_else(|| panic!("{name}: no gradient for input {i}"));
            close(&g.to_vec().unwrap(), &values::<T>(&theirs.grad()), Pass::Gradient, &format!("{name} grad {i}"));
        }
    }

    fn parity<T: Both>(name: &str, inputs: &[Tensor<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
        parity_n(name, inputs, inputs.len(), ours, theirs);
    }

    fn random<T: Both>(shape: &[usize], lo: f64, hi: f64, rng: &mut StdRng) -> Tensor<T> {
        let data = (0..shape.iter().product()).map(|_| T::from_f64(rng.random_range(lo..hi)).unwrap()).collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    fn shape(rng: &mut StdRng, min_rank: usize) -> Vec<usize> {
        (0..rng.random_range(min_rank..=3)).map(|_| rng.random_range(1..5)).collect()
    }

    fn long(indices: &[usize], shape: &[i64]) -> tch::Tensor {
        tch::Tensor::from_slice(&indices.iter().map(|&i| i as i64).collect::<Vec<_>>()).reshape(shape)
    }

    fn activations<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut trig = StdRng::seed_from_u64(seed + 1);
        for _ in 0..12 {
            let s = shape(&mut rng, 0);
            // Non-contiguous half the time: a transposed view of the same values.
            let mut x = random::<T>(&s, -3.0, 3.0, &mut rng);
            if x.rank() >= 2 && rng.random_bool(0.5) {
                x = x.transpose(0, 1).unwrap();
            }
            let x = [x];
            parity("relu", &x, &|t| t[0].relu(), &|t| t[0].relu());
            parity("leaky_relu", &x, &|t| t[0].leaky_relu(T::from_f64(0.01).unwrap()), &|t| t[0].leaky_relu());
            parity("sigmoid", &x, &|t| t[0].sigmoid(), &|t| t[0].sigmoid());
            parity("tanh", &x, &|t| t[0].tanh(), &|t| t[0].tanh());
            parity("gelu", &x, &|t| t[0].gelu(GeluApproximate::None), &|t| t[0].gelu("none"));
            parity("gelu tanh", &x, &|t| t[0].gelu(GeluApproximate::Tanh), &|t| t[0].gelu("tanh"));
            parity("silu", &x, &|t| t[0].silu(), &|t| t[0].silu());
            let (one, twenty) = (T::one(), T::from_f64(20.0).unwrap());
            parity("softplus", &x, &|t| t[0].softplus(one, twenty), &|t| t[0].softplus());
            parity("elu", &x, &|t| t[0].elu(one), &|t| t[0].elu());
            let (lo, hi) = (T::from_f64(-1.0).unwrap(), T::from_f64(0.5).unwrap());
            parity("clamp", &x, &|t| t[0].clamp(Some(lo), Some(hi)), &|t| t[0].clamp(-1.0, 0.5));
            parity("log1p", &[random::<T>(&s, -0.9, 3.0, &mut rng)], &|t| t[0].log1p(), &|t| t[0].log1p());
            // A stream of their own, so that the other ops' draws stay as they were.
            let angles = [random::<T>(&s, -7.0, 7.0, &mut trig)];
            parity("sin", &angles, &|t| t[0].sin(), &|t| t[0].sin());
            parity("cos", &angles, &|t| t[0].cos(), &|t| t[0].cos());
            let y = random::<T>(x[0].shape(), -3.0, 3.0, &mut rng);
            let xy = [x[0].clone(), y];
            parity("maximum", &xy, &|t| t[0].maximum(&t[1]), &|t| t[0].maximum(&t[1]));
            parity("minimum", &xy, &|t| t[0].minimum(&t[1]), &|t| t[0].minimum(&t[1]));
        }
        // Broadcasting: a row against a matrix, and a condition broadcast over both branches.
        let (m, row) = (random::<T>(&[3, 4], -3.0, 3.0, &mut rng), random::<T>(&[4], -3.0, 3.0, &mut rng));
        let pair = [m, row];
        parity("maximum broadcast", &pair, &|t| t[0].maximum(&t[1]), &|t| t[0].maximum(&t[1]));
        parity("minimum broadcast", &pair, &|t| t[0].minimum(&t[1]), &|t| t[0].minimum(&t[1]));
        let cond = Tensor::from_vec(vec![T::one(), T::zero(), T::one(), T::zero()], &[4]).unwrap();
        let theirs_cond = to_tch(&cond).to_kind(tch::Kind::Bool);
        parity("where broadcast", &pair, &|t| where_(&cond, &t[0], &t[1]), &|t| t[0].where_self(&theirs_cond, &t[1]));
        // The kinks and ties, where the gradient is torch's convention rather than calculus.
        let kinks = [Tensor::from_vec(vec![T::zero(), -T::zero(), T::one(), -T::one()], &[4]).unwrap()];
        parity("relu at 0", &kinks, &|t| t[0].relu(), &|t| t[0].relu());
        parity("abs at 0", &kinks, &|t| t[0].abs(), &|t| t[0].abs());
        parity("elu at 0", &kinks, &|t| t[0].elu(T::one()), &|t| t[0].elu());
        parity("leaky at 0", &kinks, &|t| t[0].leaky_relu(T::from_f64(0.01).unwrap()), &|t| t[0].leaky_relu());
        parity("pow 0 at 0", &kinks, &|t| t[0].powf(T::zero()), &|t| t[0].pow_tensor_scalar(0.0));
        let ends = [T::from_f64(-1.0).unwrap(), T::from_f64(0.5).unwrap()];
        let at_bounds = [Tensor::from_vec(vec![ends[0], ends[1], T::zero()], &[3]).unwrap()];
        parity("clamp at bounds", &at_bounds, &|t| t[0].clamp(Some(ends[0]), Some(ends[1])), &|t| {
            t[0].clamp(-1.0, 0.5)
        });
        let tie = [
            Tensor::from_vec(vec![T::one(), T::zero()], &[2]).unwrap(),
            Tensor::from_vec(vec![T::one(), T::one()], &[2]).unwrap(),
        ];
        parity("maximum tie", &tie, &|t| t[0].maximum(&t[1]), &|t| t[0].maximum(&t[1]));
    }

    fn softmax_and_reductions<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..12 {
            let s = shape(&mut rng, 1);
            let x = [random::<T>(&s, -3.0, 3.0, &mut rng)];
            let d = rng.random_range(0..s.len()) as i64;
            let keep = rng.random_bool(0.5);
            let kind = T::KIND;
            parity("softmax", &x, &|t| t[0].softmax(d as isize), &|t| t[0].softmax(d, kind));
            parity("log_softmax", &x, &|t| t[0].log_softmax(d as isize), &|t| t[0].log_softmax(d, kind));
            parity("logsumexp", &x, &|t| t[0].logsumexp(d as isize, keep), &|t| t[0].logsumexp([d], keep));
            parity("max_dim", &x, &|t| Ok(t[0].max_dim(d as isize, keep)?.0), &|t| t[0].max_dim(d, keep).0);
            parity("min_dim", &x, &|t| Ok(t[0].min_dim(d as isize, keep)?.0), &|t| t[0].min_dim(d, keep).0);
            parity_n("argmax", &x, 0, &|t| t[0].argmax(d as isize, keep), &|t| t[0].argmax(d, keep).to_kind(kind));
            parity("max", &x, &|t| t[0].max(), &|t| t[0].max());
            parity("min", &x, &|t| t[0].min(), &|t| t[0].min());
            parity("var", &x, &|t| t[0].var_dim(d as isize, 1, keep), &|t| t[0].var_dim(&[d][..], true, keep));
            parity("std", &x, &|t| t[0].std_dim(d as isize, 0, keep), &|t| t[0].std_dim(&[d][..], false, keep));
            parity("norm 1", &x, &|t| t[0].norm(1.0), &|t| t[0].abs().sum(None));
            parity("norm 2", &x, &|t| t[0].norm(2.0), &|t| t[0].norm());
            parity("norm inf", &x, &|t| t[0].norm(f64::INFINITY), &|t| t[0].abs().max());
        }
        let big = [Tensor::from_vec(
            [1000.0, -1000.0, 0.0, 1000.0, 1000.0, 1000.0].map(|v| T::from_f64(v).unwrap()).to_vec(),
            &[2, 3],
        )
        .unwrap()];
        parity("log_softmax of ±1000", &big, &|t| t[0].log_softmax(1), &|t| t[0].log_softmax(1, T::KIND));
        parity("softmax of equal logits", &big, &|t| t[0].softmax(1), &|t| t[0].softmax(1, T::KIND));
        parity("max with ties", &big, &|t| t[0].max(), &|t| t[0].max());
        parity("max_dim with ties", &big, &|t| Ok(t[0].max_dim(1, false)?.0), &|t| t[0].max_dim(1, false).0);
        parity("norm 2 of zeros", &[Tensor::<T>::zeros(&[3])], &|t| t[0].norm(2.0), &|t| t[0].norm());
    }

    fn selection_and_joining<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..10 {
            let (n, c) = (rng.random_range(1..6), rng.random_range(1..5));
            let x = random::<T>(&[n, c], -2.0, 2.0, &mut rng);
            let idx: Vec<usize> = (0..n * 2).map(|_| rng.random_range(0..c)).collect();
            let ours_idx = Tensor::from_vec(idx.iter().map(|&i| T::from_usize(i).unwrap()).collect(), &[n, 2]).unwrap();
            let theirs_idx = long(&idx, &[n as i64, 2]);
            parity("gather", std::slice::from_ref(&x), &|t| t[0].gather(1, &ours_idx), &|t| {
                t[0].gather(1, &theirs_idx, false)
            });
            let y = random::<T>(&[n, c], -2.0, 2.0, &mut rng);
            let cond = x.gt(&y).unwrap();
            let theirs_cond = to_tch(&cond).to_kind(tch::Kind::Bool);
            parity("where", &[x.clone(), y.clone()], &|t| where_(&cond, &t[0], &t[1]), &|t| {
                t[0].where_self(&theirs_cond, &t[1])
            });
            let z = random::<T>(&[rng.random_range(1..4), c], -2.0, 2.0, &mut rng);
            parity("cat", &[x.clone(), z], &|t| cat(&[t[0].clone(), t[1].clone()], 0), &|t| {
                tch::Tensor::cat(&[&t[0], &t[1]], 0)
            });
            parity("stack", &[x.clone(), y], &|t| stack(&[t[0].clone(), t[1].clone()], 1), &|t| {
                tch::Tensor::stack(&[&t[0], &t[1]], 1)
            });
        }
    }

    fn losses<T: Both>(seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let reductions = [
            (Reduction::Mean, tch::Reduction::Mean),
            (Reduction::Sum, tch::Reduction::Sum),
            (Reduction::None, tch::Reduction::None),
        ];
        for _ in 0..6 {
            let (n, c) = (rng.random_range(1..7), rng.random_range(2..5));
            let logits = random::<T>(&[n, c], -3.0, 3.0, &mut rng);
            let other = random::<T>(&[n, c], -3.0, 3.0, &mut rng);
            let probs = random::<T>(&[n, c], 0.02, 0.98, &mut rng);
            let targets01 = random::<T>(&[n, c], 0.0, 1.0, &mut rng);
            let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..c)).collect();
            let theirs_labels = long(&labels, &[n as i64]);
            let weight = random::<T>(&[c], 0.5, 2.0, &mut rng);
            let pos_weight = random::<T>(&[c], 0.5, 3.0, &mut rng);
            let onehot = Tensor::from_vec(
                labels.iter().flat_map(|&l| (0..c).map(move |k| if k == l { T::one() } else { T::zero() })).collect(),
                &[n, c],
            )
            .unwrap();
            for (ours, theirs) in reductions {
                let pair = [logits.clone(), other.clone()];
                parity("l1_loss", &pair, &|t| F::l1_loss(&t[0], &t[1], ours), &|t| t[0].l1_loss(&t[1], theirs));
                parity("huber_loss", &pair, &|t| F::huber_loss(&t[0], &t[1], ours, 0.7), &|t| {
                    t[0].huber_loss(&t[1], theirs, 0.7)
                });
                parity("smooth_l1", &pair, &|t| F::smooth_l1_loss(&t[0], &t[1], ours, 0.7), &|t| {
                    t[0].smooth_l1_loss(&t[1], theirs, 0.7)
                });
                let bce = [probs.clone(), targets01.clone()];
                parity("bce", &bce, &|t| F::binary_cross_entropy(&t[0], &t[1], None, ours), &|t| {
                    t[0].binary_cross_entropy::<tch::Tensor>(&t[1], None, theirs)
                });
                let w = to_tch(&weight);
                parity("bce weight", &bce, &|t| F::binary_cross_entropy(&t[0], &t[1], Some(&weight), ours), &|t| {
                    t[0].binary_cross_entropy(&t[1], Some(&w), theirs)
                });
                let logit_pair = [logits.clone(), targets01.clone()];
                let pw = to_tch(&pos_weight);
                parity_n(
                    "bce logits",
                    &logit_pair,
                    1,
                    &|t| F::binary_cross_entropy_with_logits(&t[0], &t[1], Some(&weight), Some(&pos_weight), ours),
                    &|t| t[0].binary_cross_entropy_with_logits(&t[1], Some(&w), Some(&pw), theirs),
                );
                for (smoothing, ignore) in [(0.0, None), (0.2, None), (0.0, Some(labels[0])), (0.1, Some(labels[0]))] {
                    let ce = CrossEntropyLoss {
                        weight: Some(weight.clone()),
                        ignore_index: ignore,
                        reduction: ours,
                        label_smoothing: smoothing,
                    };
                    let ignore_t = ignore.map_or(-100, |i| i as i64);
                    let x = [logits.clone()];
                    parity("cross_entropy indices", &x, &|t| ce.forward(&t[0], &labels), &|t| {
                        t[0].cross_entropy_loss(&theirs_labels, Some(&w), theirs, ignore_t, smoothing)
                    });
                    let plain = CrossEntropyLoss { weight: None, ..ce.clone() };
                    parity("cross_entropy indices, no weight", &x, &|t| plain.forward(&t[0], &labels), &|t| {
                        t[0].cross_entropy_loss::<tch::Tensor>(&theirs_labels, None, theirs, ignore_t, smoothing)
                    });
                    let probs_ce = CrossEntropyLoss { ignore_index: None, ..ce.clone() };
                    let onehot_t = to_tch(&onehot);
                    parity("cross_entropy probabilities", &x, &|t| probs_ce.forward(&t[0], &onehot), &|t| {
                        t[0].cross_entropy_loss(&onehot_t, Some(&w), theirs, -100, smoothing)
                    });
                    let logp = [logits.log_softmax(1).unwrap()];
                    parity("nll_loss", &logp, &|t| F::nll_loss(&t[0], &labels, Some(&weight), ignore, ours), &|t| {
                        t[0].g_nll_loss(&theirs_labels, Some(&w), theirs, ignore_t)
                    });
                }
            }
        }
    }

    /// Every elementwise op at its special points — zeros of both signs, where a function or its derivative
    /// has a pole or a kink, overflow, ±inf and NaN — forward and gradient against libtorch.
    fn special_points<T: Both>() {
        let big = if std::mem::size_of::<T>() == 4 { 100.0 } else { 1000.0 }; // exp overflows past it
        let points = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, big, -big, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let x = [Tensor::from_vec(points.iter().map(|&v| T::from_f64(v).unwrap()).collect(), &[points.len()]).unwrap()];
        let c = |v: f64| T::from_f64(v).unwrap();
        parity("neg", &x, &|t| t[0].neg(), &|t| -&t[0]);
        parity("square", &x, &|t| t[0].square(), &|t| t[0].square());
        parity("sqrt", &x, &|t| t[0].sqrt(), &|t| t[0].sqrt());
        parity("exp", &x, &|t| t[0].exp(), &|t| t[0].exp());
        parity("log", &x, &|t| t[0].log(), &|t| t[0].log());
        parity("log1p", &x, &|t| t[0].log1p(), &|t| t[0].log1p());
        parity("sin", &x, &|t| t[0].sin(), &|t| t[0].sin());
        parity("cos", &x, &|t| t[0].cos(), &|t| t[0].cos());
        parity("abs", &x, &|t| t[0].abs(), &|t| t[0].abs());
        parity("sign", &x, &|t| t[0].sign(), &|t| t[0].sign());
        for p in [0.0, 0.5, 1.0, 2.0, -1.0, 2.5] {
            parity(&format!("powf {p}"), &x, &|t| t[0].powf(c(p)), &|t| t[0].pow_tensor_scalar(p));
        }
        for n in [0, 1, 2, 3, -1, -2] {
            parity(&format!("powi {n}"), &x, &|t| t[0].powi(n), &|t| t[0].pow_tensor_scalar(n as i64));
        }
        parity("relu", &x, &|t| t[0].relu(), &|t| t[0].relu());
        parity("leaky_relu", &x, &|t| t[0].leaky_relu(c(0.01)), &|t| t[0].leaky_relu());
        parity("sigmoid", &x, &|t| t[0].sigmoid(), &|t| t[0].sigmoid());
        parity("tanh", &x, &|t| t[0].tanh(), &|t| t[0].tanh());
        parity("gelu", &x, &|t| t[0].gelu(GeluApproximate::None), &|t| t[0].gelu("none"));
        parity("gelu tanh", &x, &|t| t[0].gelu(GeluApproximate::Tanh), &|t| t[0].gelu("tanh"));
        parity("silu", &x, &|t| t[0].silu(), &|t| t[0].silu());
        parity("softplus", &x, &|t| t[0].softplus(c(1.0), c(20.0)), &|t| t[0].softplus());
        parity("elu", &x, &|t| t[0].elu(c(1.0)), &|t| t[0].elu());
        parity("clamp", &x, &|t| t[0].clamp(Some(c(-1.0)), Some(c(0.5))), &|t| t[0].clamp(-1.0, 0.5));
        parity("rdiv_scalar", &x, &|t| t[0].rdiv_scalar(c(2.0)), &|t| t[0].reciprocal() * 2.0);
        parity("div_scalar by 0", &x, &|t| t[0].div_scalar(c(0.0)), &|t| &t[0] / 0.0);
        parity("mul_scalar by inf", &x, &|t| t[0].mul_scalar(c(f64::INFINITY)), &|t| &t[0] * f64::INFINITY);
        // Binary ops over every pair of special points: division by ±0, inf - inf, 0 · inf, NaN ties.
        let n = points.len();
        let a = Tensor::from_vec(x[0].to_vec().unwrap().repeat(n), &[n, n]).unwrap();
        let pair = [a.clone(), a.t().unwrap().contiguous().unwrap()];
        parity("add", &pair, &|t| t[0].add(&t[1]), &|t| &t[0] + &t[1]);
        parity("sub", &pair, &|t| t[0].sub(&t[1]), &|t| &t[0] - &t[1]);
        parity("mul", &pair, &|t| t[0].mul(&t[1]), &|t| &t[0] * &t[1]);
        parity("div", &pair, &|t| t[0].div(&t[1]), &|t| &t[0] / &t[1]);
        parity("maximum", &pair, &|t| t[0].maximum(&t[1]), &|t| t[0].maximum(&t[1]));
        parity("minimum", &pair, &|t| t[0].minimum(&t[1]), &|t| t[0].minimum(&t[1]));
    }

    #[test]
    fn special_points_match_libtorch() {
        special_points::<f64>();
        special_points::<f32>();
    }

    #[test]
    fn activations_match_libtorch() {
        activations::<f64>(1);
        activations::<f32>(2);
    }

    #[test]
    fn softmax_and_reductions_match_libtorch() {
        softmax_and_reductions::<f64>(3);
        softmax_and_reductions::<f32>(4);
    }

    #[test]
    fn selection_and_joining_match_libtorch() {
        selection_and_joining::<f64>(5);
        selection_and_joining::<f32>(6);
    }

    #[test]
    fn losses_match_libtorch() {
        losses::<f64>(7);
        losses::<f32>(8);
    }

    #[test]
    fn a_class_index_out_of_range_is_an_error() {
        let logits = Tensor::<f64>::zeros(&[2, 3]);
        let err = F::cross_entropy(&logits, &[0, 3][..]).unwrap_err().to_string();
        assert_eq!(err, "cross_entropy: target 3 at row 1 is out of bounds for 3 classes");
    }
}
