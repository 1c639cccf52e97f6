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
pub(crate) mod parity {
    use super::common::torch::{assert_close, shape_of, to_tch, values, Both};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use torchlet::autograd::{grad_with, GradOptions};
    use torchlet::{GeluApproximate, Result, Tensor};

    pub(crate) type Ours<'a, T> = dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'a;
    pub(crate) type Theirs<'a> = dyn Fn(&[tch::Tensor]) -> tch::Tensor + 'a;

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
    pub(crate) struct Tol {
        pub(crate) rtol: f64,
        pub(crate) of_scale: f64,
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
    pub(crate) fn derivatives<T: Both>(
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

    pub(crate) fn second<T: Both>(name: &str, inputs: &[Tensor<T>], ours: &Ours<'_, T>, theirs: &Theirs<'_>) {
        derivatives(name, inputs, 2, Tol { rtol: 10.0 * T::RTOL, of_scale: 0.0 }, ours, theirs);
    }

    pub(crate) fn tensor<T: Both>(v: &[f64], shape: &[usize]) -> Tensor<T> {
        Tensor::from_vec(v.iter().map(|&x| T::from_f64(x).unwrap()).collect(), shape).unwrap()
    }

    pub(crate) fn random<T: Both>(shape: &[usize], lo: f64, hi: f64, rng: &mut StdRng) -> Tensor<T> {
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
        second("sin", &x, &|t| t[0].sin(), &|t| t[0].sin());
        second("cos", &x, &|t| t[0].cos(), &|t| t[0].cos());
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
    fn third_derivatives() {
        third_order::<f64>();
        third_order::<f32>();
    }
}
