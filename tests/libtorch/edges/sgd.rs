//! SGD against libtorch's own (torch::optim::SGD through tch), several parameters, one without a
//! gradient, learning-rate changes between steps.

use super::harness::*;

use torchlet::optim::{SgdConfig, SGD};

pub(crate) const SGD_STEPS: usize = 30;

pub(crate) fn lr_at(step: usize, lr: f64) -> f64 {
    match step {
        0..10 => lr,
        10..20 => lr * 0.3,
        _ => lr * 1.7,
    }
}

/// x [8, 3], y [8, 2] and the parameters W1 [5, 3], b1 [5], W2 [2, 5], b2 [2] and an unused [4].
pub(crate) fn mlp_problem<T: Both>(seed: u64) -> (Tensor<T>, Tensor<T>, Vec<Tensor<T>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut randn = |shape: &[usize]| Tensor::<T>::randn_with(shape, &mut rng);
    let (x, y) = (randn(&[8, 3]), randn(&[8, 2]));
    let params = [&[5, 3][..], &[5], &[2, 5], &[2], &[4]].map(&mut randn).to_vec();
    (x, y, params)
}

/// MSE of `relu(x·W1ᵀ + b1)·W2ᵀ + b2` (times `sign`), in torchlet.
pub(crate) fn mlp_loss<T: Both>(p: &[Tensor<T>], x: &Tensor<T>, y: &Tensor<T>, sign: f64) -> Result<Tensor<T>> {
    let hidden = x.matmul(&p[0].t()?)?.add(&p[1])?.relu()?;
    F::mse_loss(&hidden.matmul(&p[2].t()?)?.add(&p[3])?, y, Reduction::Mean)?.mul_scalar(T::from_f64(sign).unwrap())
}

/// The same in libtorch, unsigned.
pub(crate) fn their_mlp_loss(p: &[tch::Tensor], x: &tch::Tensor, y: &tch::Tensor) -> tch::Tensor {
    let hidden = (x.matmul(&p[0].tr()) + &p[1]).relu();
    (hidden.matmul(&p[2].tr()) + &p[3]).mse_loss(y, tch::Reduction::Mean)
}

pub(crate) fn fresh<T: Both>(params: &[Tensor<T>]) -> Vec<Tensor<T>> {
    params.iter().map(|p| p.detach().deep_clone().unwrap().requires_grad_(true).unwrap()).collect()
}

/// Trains the MLP with torchlet's SGD and libtorch's for [`SGD_STEPS`] steps, changing the learning
/// rate twice, and compares every parameter after every step. With `maximize`, torchlet ascends the
/// negated loss while libtorch, which has no `maximize`, descends the loss.
pub(crate) fn sgd_against_libtorch<T: Both>(config: SgdConfig, seed: u64) {
    let (x, y, init) = mlp_problem::<T>(seed);
    let ours = fresh(&init);
    let mut opt = SGD::with_config(ours.clone(), config).unwrap();

    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    vs.set_kind(kind::<T>());
    let root = vs.root();
    let theirs: Vec<tch::Tensor> =
        init.iter().enumerate().map(|(i, p)| root.var_copy(&format!("p{i}"), &to_tch(p))).collect();
    let sgd = tch::nn::Sgd {
        momentum: config.momentum,
        dampening: config.dampening,
        wd: config.weight_decay,
        nesterov: config.nesterov,
    };
    let mut their_opt = tch::nn::OptimizerConfig::build(sgd, &vs, config.lr).unwrap();
    let (tx, ty) = (to_tch(&x), to_tch(&y));
    let unused = init[4].to_vec().unwrap();
    for step in 0..SGD_STEPS {
        let lr = lr_at(step, config.lr);
        opt.set_lr(lr).unwrap();
        their_opt.set_lr(lr);
        opt.zero_grad();
        mlp_loss(&ours[..4], &x, &y, if config.maximize { -1.0 } else { 1.0 }).unwrap().backward().unwrap();
        opt.step().unwrap();
        their_opt.zero_grad();
        their_mlp_loss(&theirs[..4], &tx, &ty).backward();
        their_opt.step();
        for (i, (p, q)) in ours.iter().zip(&theirs).enumerate() {
            close(
                &p.to_vec().unwrap(),
                &values::<T>(&q.detach()),
                &format!("{config:?} step {step} parameter {i}"),
                None,
            );
        }
        assert!(ours[4].grad().is_none(), "the unused parameter got a gradient");
        assert_eq!(ours[4].to_vec().unwrap(), unused, "{config:?} step {step}: the unused parameter moved");
    }
}

pub(crate) fn sgd_configs() -> Vec<SgdConfig> {
    let base = SgdConfig::new(0.05);
    vec![
        base,
        base.momentum(0.9),
        base.momentum(0.9).dampening(0.3),
        base.momentum(0.9).nesterov(true),
        base.weight_decay(0.1),
        base.momentum(0.5).weight_decay(0.05).nesterov(true),
        base.momentum(0.8).dampening(0.5).weight_decay(0.2),
    ]
}

#[test]
fn sgd_matches_libtorch_step_by_step() {
    for (i, config) in sgd_configs().into_iter().enumerate() {
        for config in [config, config.maximize(true)] {
            sgd_against_libtorch::<f32>(config, 20 + i as u64);
            sgd_against_libtorch::<f64>(config, 20 + i as u64);
        }
    }
    report("sgd_matches_libtorch_step_by_step");
}

/// `maximize` of the negated loss against plain descent of the loss, both in torchlet: negation is exact
/// in every op of the graph and of the rule, so the two runs must agree to the bit.
pub(crate) fn maximize_is_descent_of_the_negation<T: Both>(config: SgdConfig, seed: u64) {
    let (x, y, init) = mlp_problem::<T>(seed);
    let (up, down) = (fresh(&init), fresh(&init));
    let mut ascend = SGD::with_config(up.clone(), config.maximize(true)).unwrap();
    let mut descend = SGD::with_config(down.clone(), config.maximize(false)).unwrap();
    for step in 0..SGD_STEPS {
        for (opt, params, sign) in [(&mut ascend, &up, -1.0), (&mut descend, &down, 1.0)] {
            opt.set_lr(lr_at(step, config.lr)).unwrap();
            opt.zero_grad();
            mlp_loss(&params[..4], &x, &y, sign).unwrap().backward().unwrap();
            opt.step().unwrap();
        }
        for (i, (a, b)) in up.iter().zip(&down).enumerate() {
            assert_eq!(a.to_vec().unwrap(), b.to_vec().unwrap(), "{config:?} step {step} parameter {i}");
        }
    }
}

#[test]
fn sgd_maximize_is_descent_of_the_negated_loss() {
    for (i, config) in sgd_configs().into_iter().enumerate() {
        maximize_is_descent_of_the_negation::<f32>(config, 40 + i as u64);
        maximize_is_descent_of_the_negation::<f64>(config, 40 + i as u64);
    }
}

/// In-place updates under `no_grad` on a leaf that is a strided view land where torch's do.
#[test]
fn no_grad_update_of_a_strided_leaf() {
    let mut count = 0.0;
    let mut value = || {
        count += 1.0;
        count * 0.25
    };
    let Leaf(w, tw) = leaf::<f64>(&[3, 4], Lay::Transposed, &mut value);
    let Leaf(g, tg) = leaf::<f64>(&[4, 3], Lay::Narrowed, &mut value);
    let g = g.detach();
    no_grad(|| w.add_scaled_(&g.t().unwrap(), -0.1)).unwrap();
    let _guard = tch::no_grad_guard();
    let mut tw = tw.shallow_clone();
    let _ = tw.f_add_(&(tg.detach().tr() * -0.1)).unwrap();
    close(
        &w.to_vec().unwrap(),
        &values::<f64>(&tw),
        "no_grad add_ of a transposed source into a transposed leaf",
        None,
    );
}
