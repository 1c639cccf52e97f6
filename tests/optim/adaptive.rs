//! Adam, AdamW and RMSprop against torch's rules written out by hand (tests/common/hand_optim.rs), option
//! by option, bit for bit; skipped parameters, checks, learning-rate changes and the state dict.

use crate::common;

use common::hand_optim::{adam_step, problem_grad, rmsprop_step, AdamHand, RmsHand};
use torchlet::optim::{Adam, AdamConfig, AdamW, Optimizer, RMSprop, RmsPropConfig};
use torchlet::{Element, Result, Tensor};

fn adam_configs() -> Vec<AdamConfig> {
    let base = AdamConfig::new(0.05);
    vec![
        base,
        base.amsgrad(true),
        base.weight_decay(0.1),
        base.maximize(true),
        base.betas(0.3, 0.9).eps(1e-3), // beta1 < 0.5 takes lerp's other form
        base.weight_decay(0.2).amsgrad(true).maximize(true).betas(0.8, 0.99),
        AdamConfig::new(0.0),
    ]
}

fn rmsprop_configs() -> Vec<RmsPropConfig> {
    let base = RmsPropConfig::new(0.01);
    vec![
        base,
        base.momentum(0.9),
        base.centered(true),
        base.weight_decay(0.1),
        base.maximize(true),
        base.alpha(0.3).eps(1e-4).centered(true), // 1 − alpha >= 0.5 takes lerp's other form
        base.momentum(0.5).centered(true).weight_decay(0.05).maximize(true),
    ]
}

/// Runs `opt` and `hand` side by side for six steps on two parameters of different shapes, with the
/// gradients set exactly, and requires identical values after every step.
fn follows_hand<T: Element>(
    what: &str,
    make: impl Fn(Vec<Tensor<T>>) -> Result<Box<dyn Optimizer<T>>>,
    mut hand: impl FnMut(&mut [T], &[T], usize),
) -> Result<()> {
    let k = T::from_f64_lossy;
    let start: Vec<T> = [0.5, -1.5, 2.0, 0.1].map(k).to_vec();
    let longer: Vec<T> = [0.3, -0.7, 1.1, 4.0, -2.5, 0.0].map(k).to_vec();
    let w = Tensor::from_vec(start.clone(), &[2, 2])?.requires_grad_(true)?;
    let v = Tensor::new(longer.clone()).requires_grad_(true)?;
    let mut opt = make(vec![w.clone(), v.clone()])?;
    let (mut w_hand, mut v_hand) = (start, longer);
    for step in 0..6 {
        let (gw, gv) = (problem_grad(&w_hand), problem_grad(&v_hand));
        w.set_grad(Some(Tensor::from_vec(gw.clone(), &[2, 2])?))?;
        v.set_grad(Some(Tensor::new(gv.clone())))?;
        opt.step()?;
        hand(&mut w_hand, &gw, 0);
        hand(&mut v_hand, &gv, 1);
        assert_eq!(w.to_vec()?, w_hand, "{what}: weight after step {step}");
        assert_eq!(v.to_vec()?, v_hand, "{what}: vector after step {step}");
        assert_eq!(w.grad().unwrap().to_vec()?, gw, "{what}: step must not touch the gradient");
    }
    Ok(())
}

fn adam_follows_hand<T: Element>(decoupled: bool) -> Result<()> {
    for config in adam_configs() {
        let mut states = [AdamHand::default(), AdamHand::default()];
        let make = |params: Vec<Tensor<T>>| -> Result<Box<dyn Optimizer<T>>> {
            Ok(if decoupled {
                Box::new(AdamW::with_config(params, config)?)
            } else {
                Box::new(Adam::with_config(params, config)?)
            })
        };
        let what = format!("{} {config:?} in {}", if decoupled { "AdamW" } else { "Adam" }, T::DTYPE);
        follows_hand(&what, make, |theta, g, i| adam_step(theta, g, &mut states[i], &config, decoupled))?;
    }
    Ok(())
}

#[test]
fn adam_every_option_follows_the_hand_rule_exactly() -> Result<()> {
    adam_follows_hand::<f64>(false)?;
    adam_follows_hand::<f32>(false)
}

#[test]
fn adamw_every_option_follows_the_hand_rule_exactly() -> Result<()> {
    adam_follows_hand::<f64>(true)?;
    adam_follows_hand::<f32>(true)
}

#[test]
fn rmsprop_every_option_follows_the_hand_rule_exactly() -> Result<()> {
    fn run<T: Element>() -> Result<()> {
        for config in rmsprop_configs() {
            let mut states = [RmsHand::default(), RmsHand::default()];
            let make = |params: Vec<Tensor<T>>| -> Result<Box<dyn Optimizer<T>>> {
                Ok(Box::new(RMSprop::with_config(params, config)?))
            };
            let what = format!("RMSprop {config:?} in {}", T::DTYPE);
            follows_hand(&what, make, |theta, g, i| rmsprop_step(theta, g, &mut states[i], &config))?;
        }
        Ok(())
    }
    run::<f64>()?;
    run::<f32>()
}

#[test]
fn adamw_decays_before_the_adam_update_and_adam_adds_to_the_gradient() -> Result<()> {
    // One step from θ = 2 with g = 0: Adam's update is 0 (m = 0), so only the weight decay shows.
    let (lr, wd) = (0.1, 0.5);
    let decayed = |opt: &mut dyn Optimizer<f64>| -> Result<f64> {
        let p = opt.params()[0].clone();
        p.set_grad(Some(Tensor::new([0.0])))?;
        opt.step()?;
        p.item()
    };
    let config = AdamConfig::new(lr).weight_decay(wd);
    let w = || Tensor::new([2.0]).requires_grad_(true);
    assert_eq!(decayed(&mut AdamW::with_config([w()?], config)?)?, 2.0 * (1.0 - lr * wd));
    // Adam: g = wd·θ = 1, so the first step moves θ by lr·m̂/(√v̂ + eps) = lr/(1 + 1e-8).
    let adam = decayed(&mut Adam::with_config([w()?], config)?)?;
    assert!((adam - (2.0 - lr / (1.0 + 1e-8))).abs() < 1e-15, "{adam}");
    Ok(())
}

#[test]
fn parameters_without_gradient_are_skipped_and_get_no_state() -> Result<()> {
    let (p, q) = (Tensor::new([1.0, 2.0]).requires_grad_(true)?, Tensor::new([3.0]).requires_grad_(true)?);
    let optimizers: Vec<Box<dyn Optimizer<f64>>> = vec![
        Box::new(Adam::with_config([p.clone(), q.clone()], AdamConfig::new(0.1).amsgrad(true))?),
        Box::new(AdamW::new([p.clone(), q.clone()], 0.1)?),
        Box::new(RMSprop::with_config([p.clone(), q.clone()], RmsPropConfig::new(0.1).momentum(0.9).centered(true))?),
    ];
    for mut opt in optimizers {
        let before = q.to_vec()?;
        p.set_grad(Some(Tensor::new([1.0, -1.0])))?;
        opt.step()?;
        assert_eq!(q.to_vec()?, before, "no gradient: no change, and no weight decay either");
        let names: Vec<String> = opt.state_dict().into_iter().map(|(n, _)| n).collect();
        assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("state.0.")), "{names:?}");
        // q's first gradient starts q's state at step 1 while p's carries on at step 2.
        opt.zero_grad();
        assert!(p.grad().is_none());
        p.set_grad(Some(Tensor::new([1.0, -1.0])))?;
        q.set_grad(Some(Tensor::new([1.0])))?;
        opt.step()?;
        let steps: Vec<(String, f64)> = opt
            .state_dict()
            .into_iter()
            .filter(|(n, _)| n.ends_with(".step"))
            .map(|(n, t)| (n, t.item().unwrap()))
            .collect();
        assert_eq!(steps, [("state.0.step".into(), 2.0), ("state.1.step".into(), 1.0)]);
        opt.zero_grad();
    }
    Ok(())
}

#[test]
fn set_lr_changes_later_steps_and_is_checked() -> Result<()> {
    let config = AdamConfig::new(0.1);
    let p = Tensor::new([1.0, -2.0]).requires_grad_(true)?;
    let mut opt = Adam::with_config([p.clone()], config)?;
    let (mut hand, mut state) = (vec![1.0, -2.0], AdamHand::default());
    for (step, lr) in [0.1, 0.1, 0.02, 0.5, 0.0].into_iter().enumerate() {
        opt.set_lr(lr)?;
        let g = problem_grad(&hand);
        p.set_grad(Some(Tensor::new(g.clone())))?;
        opt.step()?;
        adam_step(&mut hand, &g, &mut state, &AdamConfig { lr, ..config }, false);
        assert_eq!(p.to_vec()?, hand, "step {step} at lr {lr}");
    }
    assert_eq!(opt.set_lr(-1.0).unwrap_err().to_string(), "Adam: invalid learning rate: -1 (must be finite and >= 0)");
    assert_eq!(opt.lr(), 0.0);
    Ok(())
}

#[test]
fn invalid_hyperparameters_are_errors_naming_the_optimizer_and_value() {
    let p = || Tensor::<f64>::zeros(&[2]).requires_grad_(true).unwrap();
    let adam = |c: AdamConfig| Adam::with_config([p()], c).err().expect("should fail").to_string();
    let adamw = |c: AdamConfig| AdamW::with_config([p()], c).err().expect("should fail").to_string();
    let rms = |c: RmsPropConfig| RMSprop::with_config([p()], c).err().expect("should fail").to_string();
    let cases = [
        (adam(AdamConfig::new(-1e-3)), "Adam: invalid learning rate: -0.001 (must be finite and >= 0)"),
        (adam(AdamConfig::new(f64::NAN)), "Adam: invalid learning rate: NaN (must be finite and >= 0)"),
        (adam(AdamConfig::new(0.1).eps(-1.0)), "Adam: invalid epsilon value: -1 (must be finite and >= 0)"),
        (adam(AdamConfig::new(0.1).betas(1.0, 0.9)), "Adam: invalid beta parameter at index 0: 1 (must be in [0, 1))"),
        (
            adam(AdamConfig::new(0.1).betas(-0.1, 0.9)),
            "Adam: invalid beta parameter at index 0: -0.1 (must be in [0, 1))",
        ),
        (
            adam(AdamConfig::new(0.1).betas(0.9, 1.5)),
            "Adam: invalid beta parameter at index 1: 1.5 (must be in [0, 1))",
        ),
        (
            adam(AdamConfig::new(0.1).weight_decay(-0.5)),
            "Adam: invalid weight_decay value: -0.5 (must be finite and >= 0)",
        ),
        (adamw(AdamConfig::adamw(f64::INFINITY)), "AdamW: invalid learning rate: inf (must be finite and >= 0)"),
        (
            adamw(AdamConfig::adamw(0.1).betas(0.9, f64::NAN)),
            "AdamW: invalid beta parameter at index 1: NaN (must be in [0, 1))",
        ),
        (rms(RmsPropConfig::new(-0.01)), "RMSprop: invalid learning rate: -0.01 (must be finite and >= 0)"),
        (
            rms(RmsPropConfig::new(0.01).eps(-1e-8)),
            "RMSprop: invalid epsilon value: -0.00000001 (must be finite and >= 0)",
        ),
        (
            rms(RmsPropConfig::new(0.01).momentum(-0.9)),
            "RMSprop: invalid momentum value: -0.9 (must be finite and >= 0)",
        ),
        (
            rms(RmsPropConfig::new(0.01).weight_decay(-1.0)),
            "RMSprop: invalid weight_decay value: -1 (must be finite and >= 0)",
        ),
        (rms(RmsPropConfig::new(0.01).alpha(-0.99)), "RMSprop: invalid alpha value: -0.99 (must be finite and >= 0)"),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    let none: [Tensor<f64>; 0] = [];
    assert_eq!(Adam::new(none, 0.1).err().unwrap().to_string(), "Adam: optimizer got an empty parameter list");
    let q = p();
    assert_eq!(
        RMSprop::new([q.clone(), q], 0.1).err().unwrap().to_string(),
        "RMSprop: parameter 1 is the same tensor as parameter 0"
    );
    let non_leaf = (&p() * 2.0).requires_grad_(true).unwrap();
    assert_eq!(
        AdamW::new([non_leaf], 0.1).err().unwrap().to_string(),
        "AdamW: can't optimize a non-leaf tensor (parameter 0, shape [2])"
    );
}

#[test]
fn set_momentum_drives_beta1_and_momentum_with_the_same_checks() -> Result<()> {
    let p = || Tensor::<f64>::zeros(&[1]).requires_grad_(true);
    let mut adam = Adam::new([p()?], 0.1)?;
    adam.set_momentum(0.8)?;
    assert_eq!((adam.momentum(), adam.config().betas), (0.8, (0.8, 0.999)));
    assert_eq!(
        adam.set_momentum(1.0).unwrap_err().to_string(),
        "Adam: invalid beta parameter at index 0: 1 (must be in [0, 1))"
    );
    let mut rms = RMSprop::new([p()?], 0.1)?;
    rms.set_momentum(0.9)?;
    assert_eq!(rms.config().momentum, 0.9);
    assert!(rms.set_momentum(-1.0).is_err());
    Ok(())
}

/// The state updates the adaptive optimizers are built from, `addcmul_`, `addcdiv_` and `lerp_` (both of
/// its forms), element by element against torch's formulas: into a strided destination from a broadcast
/// and a strided source, and with a source that is the destination itself, read as it was before the write.
fn state_updates_follow_the_formulas<T: Element>() -> Result<()> {
    let k = T::from_f64_lossy;
    let start: Vec<T> = [0.3, -1.7, 2.9, 0.05, -0.6, 4.1].map(k).to_vec();
    let row: Vec<T> = [1.3, -0.7, 2.2].map(k).to_vec();
    let other: Vec<T> = [0.9, 1.1, -2.3, 0.7, 3.1, -0.4].map(k).to_vec();
    // x is the transposed view [3, 2] of a [2, 3] buffer; x[i][j] is start[j * 3 + i].
    let at = |i: usize, j: usize| j * 3 + i;
    let value = k(-0.37);
    for form in ["addcmul_", "addcdiv_", "lerp_ 0.2", "lerp_ 0.9"] {
        let base = Tensor::from_vec(start.clone(), &[2, 3])?;
        let x = base.t()?;
        let t1 = Tensor::from_vec(row.clone(), &[3, 1])?; // broadcast along the columns
        let t2 = Tensor::from_vec(other.clone(), &[2, 3])?.t()?;
        let formula: Box<dyn Fn(T, T, T) -> T> = match form {
            "addcmul_" => Box::new(|x, a, b| x + value * a * b),
            "addcdiv_" => Box::new(|x, a, b| x + value * a / b),
            _ => {
                let w = k(if form == "lerp_ 0.2" { 0.2 } else { 0.9 });
                Box::new(move |x, a, _| common::hand_optim::lerp(x, a, w))
            }
        };
        match form {
            "addcmul_" => x.addcmul_(&t1, &t2, value)?,
            "addcdiv_" => x.addcdiv_(&t1, &t2, value)?,
            "lerp_ 0.2" => x.lerp_(&t1, k(0.2))?,
            _ => x.lerp_(&t1, k(0.9))?,
        };
        let mut want = start.clone();
        for (i, j) in (0..3).flat_map(|i| (0..2).map(move |j| (i, j))) {
            want[at(i, j)] = formula(start[at(i, j)], row[i], other[at(i, j)]);
        }
        assert_eq!(base.to_vec()?, want, "{form} in {}", T::DTYPE);

        // The destination as a source: x·x, x / x and lerp(x, x) from the values before the write.
        let alone = Tensor::from_vec(start.clone(), &[6])?;
        match form {
            "addcmul_" => alone.addcmul_(&alone, &alone, value)?,
            "addcdiv_" => alone.addcdiv_(&alone, &alone, value)?,
            "lerp_ 0.2" => alone.lerp_(&alone, k(0.2))?,
            _ => alone.lerp_(&alone, k(0.9))?,
        };
        let want: Vec<T> = start.iter().map(|&v| formula(v, v, v)).collect();
        assert_eq!(alone.to_vec()?, want, "{form} of a tensor with itself in {}", T::DTYPE);
    }
    Ok(())
}

#[test]
fn state_updates_follow_torchs_formulas() -> Result<()> {
    state_updates_follow_the_formulas::<f32>()?;
    state_updates_follow_the_formulas::<f64>()
}
