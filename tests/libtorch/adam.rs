//! Adam, AdamW and RMSprop against libtorch's own optimizers (through tch) on a small MLP: 50 steps, a
//! learning-rate change on the way, one parameter that never gets a gradient; and `maximize`, which
//! tch cannot ask for, against the hand-written rule of tests/common/hand_optim.rs.

use crate::common;

use common::hand_optim::{adam_step, rmsprop_step, AdamHand, RmsHand};
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::MSELoss;
use torchlet::optim::{Adam, AdamConfig, AdamW, Optimizer, RMSprop, RmsPropConfig};
use torchlet::{Element, Result, Tensor};

const STEPS: usize = 50;

/// The learning rate of each step: the optimizer's own, then two changes between steps.
fn lr_at(step: usize, lr: f64) -> f64 {
    match step {
        0..20 => lr,
        20..35 => lr * 0.3,
        _ => lr * 1.7,
    }
}

/// Data and initial parameters: x [8, 3], y [8, 2], W1 [5, 3], b1 [5], W2 [2, 5], b2 [2], and an unused [4].
fn problem<T: Element>(seed: u64) -> (Tensor<T>, Tensor<T>, Vec<Tensor<T>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut randn = |shape: &[usize]| Tensor::<T>::randn_with(shape, &mut rng);
    let (x, y) = (randn(&[8, 3]), randn(&[8, 2]));
    let params = [&[5, 3][..], &[5], &[2, 5], &[2], &[4]].map(&mut randn).to_vec();
    (x, y, params)
}

/// MSE of the MLP `relu(x·W1ᵀ + b1)·W2ᵀ + b2`, built from tensor ops.
fn loss<T: Element>(p: &[Tensor<T>], x: &Tensor<T>, y: &Tensor<T>) -> Result<Tensor<T>> {
    let hidden = x.matmul(&p[0].t()?)?.add(&p[1])?.relu()?;
    MSELoss::new().forward(&hidden.matmul(&p[2].t()?)?.add(&p[3])?, y)
}

fn leaves<T: Element>(params: &[Tensor<T>]) -> Vec<Tensor<T>> {
    params.iter().map(|p| p.detach().deep_clone().unwrap().requires_grad_(true).unwrap()).collect()
}

/// `maximize` (and everything else) against the hand rule, which is fed the gradients autograd computes
/// for its own copy of the parameters: both must stay identical, step for step.
fn follows_hand(
    what: &str,
    make: impl Fn(Vec<Tensor<f64>>) -> Box<dyn Optimizer<f64>>,
    lr: f64,
    mut hand: impl FnMut(&mut [f64], &[f64], usize, f64),
) {
    let (x, y, init) = problem::<f64>(7);
    let (ours, reference) = (leaves(&init), leaves(&init));
    let mut opt = make(ours.clone());
    for step in 0..STEPS {
        opt.set_lr(lr_at(step, lr)).unwrap();
        opt.zero_grad();
        loss(&ours, &x, &y).unwrap().backward().unwrap();
        opt.step().unwrap();

        reference.iter().for_each(Tensor::zero_grad);
        loss(&reference, &x, &y).unwrap().backward().unwrap();
        for (i, r) in reference.iter().enumerate().take(4) {
            let (mut theta, grad) = (r.to_vec().unwrap(), r.grad().unwrap().to_vec().unwrap());
            hand(&mut theta, &grad, i, lr_at(step, lr));
            torchlet::no_grad(|| r.copy_(&Tensor::from_vec(theta, r.shape()).unwrap()).map(drop)).unwrap();
        }
        for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
            assert_eq!(a.to_vec().unwrap(), b.to_vec().unwrap(), "{what}: parameter {i} after step {step}");
        }
    }
    assert_eq!(ours[4].to_vec().unwrap(), init[4].to_vec().unwrap(), "{what}: the unused parameter moved");
}

#[test]
fn maximize_and_every_option_follow_the_hand_rule_on_an_mlp() {
    for config in
        [AdamConfig::new(0.01).maximize(true), AdamConfig::new(0.01).maximize(true).amsgrad(true).weight_decay(0.1)]
    {
        for decoupled in [false, true] {
            let mut states: Vec<AdamHand<f64>> = vec![AdamHand::default(); 4];
            let make = |p: Vec<Tensor<f64>>| -> Box<dyn Optimizer<f64>> {
                match decoupled {
                    true => Box::new(AdamW::with_config(p, config).unwrap()),
                    false => Box::new(Adam::with_config(p, config).unwrap()),
                }
            };
            follows_hand(&format!("{config:?} decoupled {decoupled}"), make, config.lr, |theta, g, i, lr| {
                adam_step(theta, g, &mut states[i], &AdamConfig { lr, ..config }, decoupled)
            });
        }
    }
    for config in
        [RmsPropConfig::new(0.01).maximize(true), RmsPropConfig::new(0.01).maximize(true).momentum(0.9).centered(true)]
    {
        let mut states: Vec<RmsHand<f64>> = vec![RmsHand::default(); 4];
        let make =
            |p: Vec<Tensor<f64>>| -> Box<dyn Optimizer<f64>> { Box::new(RMSprop::with_config(p, config).unwrap()) };
        follows_hand(&format!("{config:?}"), make, config.lr, |theta, g, i, lr| {
            rmsprop_step(theta, g, &mut states[i], &RmsPropConfig { lr, ..config })
        });
    }
}

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn adam_adamw_rmsprop_parity_with_libtorch() {}

#[cfg(feature = "tch")]
mod parity {
    use super::common::torch::{assert_close, max_rel_diff, to_tch, values, Both};
    use super::*;
    use tch::nn::OptimizerConfig;

    /// Trains the MLP with ours and with libtorch's optimizer from the same start, comparing every
    /// parameter after every step at `rtol` (relative to each tensor's magnitude); returns the largest
    /// relative difference seen at the end.
    fn compare<T: Both>(
        what: &str,
        ours: impl FnOnce(Vec<Tensor<T>>) -> Box<dyn Optimizer<T>>,
        theirs: impl FnOnce(&tch::nn::VarStore) -> tch::nn::Optimizer,
        rtol: f64,
    ) -> f64 {
        let (x, y, init) = problem::<T>(11);
        let params = leaves(&init);
        let mut opt = ours(params.clone());
        let lr = opt.lr();

        let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
        vs.set_kind(if T::DTYPE == torchlet::DType::F64 { tch::Kind::Double } else { tch::Kind::Float });
        let vars: Vec<tch::Tensor> =
            init.iter().enumerate().map(|(i, p)| vs.root().var_copy(&format!("p{i}"), &to_tch(p))).collect();
        let mut topt = theirs(&vs);
        let (tx, ty) = (to_tch(&x), to_tch(&y));

        for step in 0..STEPS {
            opt.set_lr(lr_at(step, lr)).unwrap();
            topt.set_lr(lr_at(step, lr));
            opt.zero_grad();
            loss(&params, &x, &y).unwrap().backward().unwrap();
            opt.step().unwrap();
            topt.zero_grad();
            let hidden = (tx.matmul(&vars[0].tr()) + &vars[1]).relu();
            (hidden.matmul(&vars[2].tr()) + &vars[3]).mse_loss(&ty, tch::Reduction::Mean).backward();
            topt.step();
            for (i, (p, v)) in params.iter().zip(&vars).enumerate() {
                let theirs: Vec<T> = values(&v.detach());
                assert_close(&p.to_vec().unwrap(), &theirs, rtol, &format!("{what}: parameter {i} after step {step}"));
            }
        }
        assert_eq!(params[4].to_vec().unwrap(), init[4].to_vec().unwrap(), "{what}: the unused parameter moved");
        let to_f64 = |v: Vec<T>| v.into_iter().map(|e| e.to_f64().unwrap()).collect::<Vec<f64>>();
        let all = |ps: Vec<Vec<T>>| to_f64(ps.concat());
        let worst = max_rel_diff(
            &all(params.iter().map(|p| p.to_vec().unwrap()).collect()),
            &all(vars.iter().map(|v| values(&v.detach())).collect()),
        );
        eprintln!("{what} in {}: largest relative difference after {STEPS} steps {worst:.1e}", T::DTYPE);
        worst
    }

    fn adam_cases<T: Both>(rtol: f64) {
        let cases = [
            (AdamConfig::new(0.01), false),
            (AdamConfig::new(0.01).weight_decay(0.1).amsgrad(true).betas(0.8, 0.99).eps(1e-6), false),
            (AdamConfig::adamw(0.01), true),
            (AdamConfig::adamw(0.02).weight_decay(0.3).amsgrad(true), true),
        ];
        for (c, decoupled) in cases {
            let name = format!("{} {c:?}", if decoupled { "AdamW" } else { "Adam" });
            let ours = |p: Vec<Tensor<T>>| -> Box<dyn Optimizer<T>> {
                match decoupled {
                    true => Box::new(AdamW::with_config(p, c).unwrap()),
                    false => Box::new(Adam::with_config(p, c).unwrap()),
                }
            };
            let (beta1, beta2, wd, eps, amsgrad) = (c.betas.0, c.betas.1, c.weight_decay, c.eps, c.amsgrad);
            let theirs = |vs: &tch::nn::VarStore| match decoupled {
                true => tch::nn::AdamW { beta1, beta2, wd, eps, amsgrad }.build(vs, c.lr).unwrap(),
                false => tch::nn::Adam { beta1, beta2, wd, eps, amsgrad }.build(vs, c.lr).unwrap(),
            };
            compare(&name, ours, theirs, rtol);
        }
    }

    fn rmsprop_cases<T: Both>(rtol: f64) {
        let base = RmsPropConfig::new(0.01);
        for c in [
            base,
            base.momentum(0.9),
            base.centered(true).weight_decay(0.05),
            base.alpha(0.9).momentum(0.5).centered(true),
        ] {
            let ours = |p: Vec<Tensor<T>>| -> Box<dyn Optimizer<T>> { Box::new(RMSprop::with_config(p, c).unwrap()) };
            let config = tch::nn::RmsProp {
                alpha: c.alpha,
                eps: c.eps,
                wd: c.weight_decay,
                momentum: c.momentum,
                centered: c.centered,
            };
            compare(&format!("RMSprop {c:?}"), ours, |vs| config.build(vs, c.lr).unwrap(), rtol);
        }
    }

    #[test]
    fn adam_and_adamw_match_libtorch_in_f64() {
        adam_cases::<f64>(1e-12);
    }

    #[test]
    fn rmsprop_matches_libtorch_in_f64() {
        rmsprop_cases::<f64>(1e-12);
    }

    #[test]
    fn adam_adamw_and_rmsprop_match_libtorch_in_f32() {
        adam_cases::<f32>(F32_RTOL);
        rmsprop_cases::<f32>(F32_RTOL);
    }

    /// f32 after 50 steps: each step's forward and backward sum in another order than libtorch's and the
    /// optimizers divide by √v, so rounding differences grow a little with every step; the largest seen is
    /// 6e-6 relative (Adam), so 3e-5 leaves a margin without hiding a wrong rule (~1e-2).
    const F32_RTOL: f64 = 3e-5;
}
