//! Non-contiguous inputs: leaves that are strided views, and views made inside the op.

use super::harness::*;

pub(crate) type Op<T> = (&'static str, Box<Ours<'static, T>>, Box<Theirs<'static>>);

pub(crate) fn op<T: Both>(
    name: &'static str,
    ours: impl Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'static,
    theirs: impl Fn(&[tch::Tensor]) -> tch::Tensor + 'static,
) -> Op<T> {
    (name, Box::new(ours), Box::new(theirs))
}

pub(crate) fn unary_ops<T: Both>() -> Vec<Op<T>> {
    let t = |v: f64| T::from_f64(v).unwrap();
    vec![
        op("neg", |x| x[0].neg(), |x| -&x[0]),
        op("square", |x| x[0].square(), |x| x[0].square()),
        op("exp", |x| x[0].exp(), |x| x[0].exp()),
        op("abs", |x| x[0].abs(), |x| x[0].abs()),
        op("sign", |x| x[0].sign(), |x| x[0].sign()),
        op("powi", |x| x[0].powi(3), |x| x[0].pow_tensor_scalar(3)),
        op("relu", |x| x[0].relu(), |x| x[0].relu()),
        op("leaky_relu", move |x| x[0].leaky_relu(t(0.01)), |x| x[0].leaky_relu()),
        op("sigmoid", |x| x[0].sigmoid(), |x| x[0].sigmoid()),
        op("tanh", |x| x[0].tanh(), |x| x[0].tanh()),
        op("gelu", |x| x[0].gelu(GeluApproximate::None), |x| x[0].gelu("none")),
        op("gelu tanh", |x| x[0].gelu(GeluApproximate::Tanh), |x| x[0].gelu("tanh")),
        op("silu", |x| x[0].silu(), |x| x[0].silu()),
        op("softplus", move |x| x[0].softplus(t(1.0), t(20.0)), |x| x[0].softplus()),
        op("elu", move |x| x[0].elu(t(1.0)), |x| x[0].elu()),
        op("clamp", move |x| x[0].clamp(Some(t(-0.5)), Some(t(0.7))), |x| x[0].clamp(-0.5, 0.7)),
        op("add_scalar", move |x| x[0].add_scalar(t(1.5)), |x| &x[0] + 1.5),
        op("mul_scalar", move |x| x[0].mul_scalar(t(1.5)), |x| &x[0] * 1.5),
    ]
}

/// Ops defined for positive inputs only.
pub(crate) fn positive_ops<T: Both>() -> Vec<Op<T>> {
    let t = |v: f64| T::from_f64(v).unwrap();
    vec![
        op("sqrt", |x| x[0].sqrt(), |x| x[0].sqrt()),
        op("log", |x| x[0].log(), |x| x[0].log()),
        op("log1p", |x| x[0].log1p(), |x| x[0].log1p()),
        op("powf", move |x| x[0].powf(t(1.7)), |x| x[0].pow_tensor_scalar(1.7)),
        op("rdiv_scalar", move |x| x[0].rdiv_scalar(t(1.5)), |x| x[0].reciprocal() * 1.5),
    ]
}

pub(crate) fn binary_ops<T: Both>() -> Vec<Op<T>> {
    vec![
        op("add", |x| x[0].add(&x[1]), |x| &x[0] + &x[1]),
        op("sub", |x| x[0].sub(&x[1]), |x| &x[0] - &x[1]),
        op("mul", |x| x[0].mul(&x[1]), |x| &x[0] * &x[1]),
        op("div", |x| x[0].div(&x[1]), |x| &x[0] / &x[1]),
        op("maximum", |x| x[0].maximum(&x[1]), |x| x[0].maximum(&x[1])),
        op("minimum", |x| x[0].minimum(&x[1]), |x| x[0].minimum(&x[1])),
    ]
}

pub(crate) fn noncontiguous_elementwise<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for shape in [&[3, 4][..], &[2, 3, 4], &[5]] {
        for lay in LAYS {
            let x = [leaf::<T>(shape, lay, &mut uniform(&mut rng, -2.0, 2.0))];
            let pos = [leaf::<T>(shape, lay, &mut uniform(&mut rng, 0.5, 3.0))];
            for (op, ours, theirs) in unary_ops::<T>() {
                parity(&format!("{op} of {shape:?} {lay:?}"), &x, &*ours, &*theirs);
            }
            for (op, ours, theirs) in positive_ops::<T>() {
                parity(&format!("{op} of {shape:?} {lay:?}"), &pos, &*ours, &*theirs);
            }
            // The same ops on a view made inside the graph: a transpose, then the op.
            if shape.len() >= 2 {
                for (op, ours, theirs) in unary_ops::<T>() {
                    parity(
                        &format!("{op} of the transpose of {shape:?} {lay:?}"),
                        &x,
                        &|x| ours(&[x[0].transpose(-2, -1)?]),
                        &|x| theirs(&[x[0].transpose(-2, -1)]),
                    );
                }
            }
        }
        // Two operands in every pair of layouts, one of them broadcast from a lower rank or an expand.
        let last = *shape.last().unwrap();
        for lay_a in LAYS {
            for lay_b in LAYS {
                let a = leaf::<T>(shape, lay_a, &mut uniform(&mut rng, -2.0, 2.0));
                let b = leaf::<T>(shape, lay_b, &mut uniform(&mut rng, 0.5, 2.0));
                let low = leaf::<T>(&[last], lay_b, &mut uniform(&mut rng, 0.5, 2.0));
                let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                for (op, ours, theirs) in binary_ops::<T>() {
                    let name = format!("{op} of {shape:?} {lay_a:?} and {lay_b:?}");
                    parity(&name, &[a.clone(), b.clone()], &*ours, &*theirs);
                    parity(&format!("{name} [{last}]"), &[a.clone(), low.clone()], &*ours, &*theirs);
                    parity(
                        &format!("{name} [{last}] expanded"),
                        &[a.clone(), low.clone()],
                        &|x| ours(&[x[0].clone(), x[1].expand(shape)?]),
                        &|x| theirs(&[x[0].shallow_clone(), x[1].expand(&dims, false)]),
                    );
                }
            }
        }
    }
}

pub(crate) fn noncontiguous_matmul<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Small products take torchlet's direct loop, large ones the GEMM: both with strided operands.
    for (m, k, n) in [(3, 4, 5), (17, 40, 23)] {
        for lay_a in LAYS {
            for lay_b in LAYS {
                let mut value = uniform(&mut rng, -1.0, 1.0);
                let a = leaf::<T>(&[m, k], lay_a, &mut value);
                let b = leaf::<T>(&[k, n], lay_b, &mut value);
                let v = leaf::<T>(&[k], lay_b, &mut value);
                let u = leaf::<T>(&[k], lay_a, &mut value);
                let name = format!("[{m}, {k}] {lay_a:?} by [{k}, {n}] {lay_b:?}");
                let mm = |x: &[tch::Tensor]| x[0].matmul(&x[1]);
                let ours = |x: &[Tensor<T>]| x[0].matmul(&x[1]);
                parity(&format!("mm {name}"), &[a.clone(), b.clone()], &ours, &mm);
                parity(&format!("mv {name}"), &[a.clone(), v.clone()], &ours, &mm);
                parity(&format!("vm {name}"), &[v.clone(), b.clone()], &ours, &mm);
                parity(&format!("dot {name}"), &[u, v], &ours, &mm);
                parity(
                    &format!("mm of narrowed {name}"),
                    &[a, b],
                    &|x| x[0].narrow(0, 1, m - 1)?.matmul(&x[1].narrow(1, 1, n - 1)?),
                    &|x| x[0].narrow(0, 1, m as i64 - 1).matmul(&x[1].narrow(1, 1, n as i64 - 1)),
                );
            }
        }
    }
}

pub(crate) fn noncontiguous_losses<T: Both>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (n, c) = (5, 4);
    let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..c)).collect();
    let target = indices(&labels);
    let reductions = [
        (Reduction::Mean, tch::Reduction::Mean),
        (Reduction::Sum, tch::Reduction::Sum),
        (Reduction::None, tch::Reduction::None),
    ];
    for lay in LAYS {
        let x = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, -2.0, 2.0));
        let y = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, -2.0, 2.0));
        let probs_lay = leaf::<T>(&[n, c], lay, &mut uniform(&mut rng, 0.05, 0.95));
        let probs = probs_lay.0.detach();
        let their_probs = probs_lay.1.detach();
        let xy = [x.clone(), y];
        let name = |op: &str| format!("{op} of [{n}, {c}] {lay:?}");
        parity(
            &name("cross_entropy by index"),
            std::slice::from_ref(&x),
            &|t| F::cross_entropy(&t[0], &labels[..]),
            &|t| t[0].cross_entropy_loss::<&tch::Tensor>(&target, None, tch::Reduction::Mean, -100, 0.0),
        );
        parity(
            &name("cross_entropy by probabilities"),
            std::slice::from_ref(&x),
            &|t| F::cross_entropy(&t[0], &probs),
            &|t| t[0].cross_entropy_loss::<&tch::Tensor>(&their_probs, None, tch::Reduction::Mean, -100, 0.0),
        );
        for (ours, theirs) in reductions {
            let name = |op: &str| name(&format!("{op} {ours:?}"));
            parity(&name("mse_loss"), &xy, &|t| F::mse_loss(&t[0], &t[1], ours), &|t| t[0].mse_loss(&t[1], theirs));
            parity(&name("l1_loss"), &xy, &|t| F::l1_loss(&t[0], &t[1], ours), &|t| t[0].l1_loss(&t[1], theirs));
            parity(&name("huber_loss"), &xy, &|t| F::huber_loss(&t[0], &t[1], ours, 0.5), &|t| {
                t[0].huber_loss(&t[1], theirs, 0.5)
            });
            parity(&name("smooth_l1_loss"), &xy, &|t| F::smooth_l1_loss(&t[0], &t[1], ours, 0.5), &|t| {
                t[0].smooth_l1_loss(&t[1], theirs, 0.5)
            });
            parity(
                &name("nll_loss"),
                std::slice::from_ref(&x),
                &|t| F::nll_loss(&t[0].log_softmax(1)?, &labels, None, None, ours),
                &|t| t[0].log_softmax(1, None).f_nll_loss::<&tch::Tensor>(&target, None, theirs, -100).unwrap(),
            );
            parity(
                &name("binary_cross_entropy"),
                std::slice::from_ref(&probs_lay),
                &|t| F::binary_cross_entropy(&t[0], &probs, None, ours),
                &|t| t[0].binary_cross_entropy::<&tch::Tensor>(&their_probs, None, theirs),
            );
            parity(
                &name("binary_cross_entropy_with_logits"),
                std::slice::from_ref(&x),
                &|t| F::binary_cross_entropy_with_logits(&t[0], &probs, None, None, ours),
                &|t| t[0].binary_cross_entropy_with_logits::<&tch::Tensor>(&their_probs, None, None, theirs),
            );
        }
    }
}

#[test]
fn noncontiguous_unary_and_binary() {
    noncontiguous_elementwise::<f32>(9);
    noncontiguous_elementwise::<f64>(10);
    report("noncontiguous_unary_and_binary");
}

#[test]
fn noncontiguous_matmul_operands() {
    noncontiguous_matmul::<f32>(11);
    noncontiguous_matmul::<f64>(12);
    report("noncontiguous_matmul_operands");
}

#[test]
fn noncontiguous_losses_and_softmax() {
    noncontiguous_losses::<f32>(13);
    noncontiguous_losses::<f64>(14);
    report("noncontiguous_losses_and_softmax");
}
