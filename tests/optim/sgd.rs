//! `optim::SGD` against torch's update rule written out by hand, option by option, for several steps.

use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::nn::{Linear, MSELoss, Module};
use torchlet::optim::{SgdConfig, SGD};
use torchlet::{no_grad, Result, Tensor};

/// One step of torch.optim.SGD on plain numbers, exactly as its docs write the rule.
fn hand_step(theta: &mut [f64], grad: &[f64], buf: &mut Option<Vec<f64>>, c: &SgdConfig) {
    let first = buf.is_none();
    let b = buf.get_or_insert_with(|| vec![0.0; theta.len()]);
    for i in 0..theta.len() {
        let mut g = grad[i];
        if c.maximize {
            g = -g;
        }
        if c.weight_decay != 0.0 {
            g += c.weight_decay * theta[i];
        }
        if c.momentum != 0.0 {
            b[i] = if first { g } else { c.momentum * b[i] + (1.0 - c.dampening) * g };
            g = if c.nesterov { g + c.momentum * b[i] } else { b[i] };
        }
        theta[i] -= c.lr * g;
    }
}

/// The gradient of the test problem `Σ aᵢθᵢ² + cᵢθᵢ`, by hand.
fn problem_grad(theta: &[f64]) -> Vec<f64> {
    const A: [f64; 4] = [1.0, 0.5, 3.0, 0.25];
    const C: [f64; 4] = [0.3, -1.0, 0.2, 2.0];
    theta.iter().enumerate().map(|(i, t)| 2.0 * A[i] * t + C[i]).collect()
}

fn configs() -> Vec<(&'static str, SgdConfig)> {
    let base = SgdConfig::new(0.05);
    vec![
        ("plain", base),
        ("momentum", base.momentum(0.9)),
        ("momentum + dampening", base.momentum(0.9).dampening(0.3)),
        ("nesterov", base.momentum(0.8).nesterov(true)),
        ("weight_decay", base.weight_decay(0.1)),
        ("maximize", base.maximize(true)),
        ("momentum + weight_decay", base.momentum(0.5).weight_decay(0.01)),
        (
            "momentum + dampening + weight_decay + maximize",
            base.momentum(0.7).dampening(0.5).weight_decay(0.2).maximize(true),
        ),
        ("nesterov + weight_decay + maximize", base.momentum(0.6).nesterov(true).weight_decay(0.05).maximize(true)),
        ("zero lr", SgdConfig::new(0.0).momentum(0.9)),
    ]
}

/// With gradients set exactly (`set_grad`), the optimizer must reproduce the hand rule bit for bit.
#[test]
fn every_option_follows_the_hand_written_rule_exactly() -> Result<()> {
    for (name, config) in configs() {
        let start = [0.5, -1.5, 2.0, 0.1];
        // Two parameters of different shapes share one optimizer: a [2, 2] weight and a [4] vector.
        let w = Tensor::from_vec(start.to_vec(), &[2, 2])?.requires_grad_(true)?;
        let v = Tensor::new(start.map(|s| s * 2.0)).requires_grad_(true)?;
        let mut opt = SGD::with_config([w.clone(), v.clone()], config)?;
        let (mut w_hand, mut v_hand) = (start.to_vec(), start.map(|s| s * 2.0).to_vec());
        let (mut w_buf, mut v_buf) = (None, None);
        for step in 0..6 {
            let (gw, gv) = (problem_grad(&w_hand), problem_grad(&v_hand));
            w.set_grad(Some(Tensor::from_vec(gw.clone(), &[2, 2])?))?;
            v.set_grad(Some(Tensor::new(gv.clone())))?;
            opt.step()?;
            hand_step(&mut w_hand, &gw, &mut w_buf, &config);
            hand_step(&mut v_hand, &gv, &mut v_buf, &config);
            assert_eq!(w.to_vec()?, w_hand, "{name}: weight after step {step}");
            assert_eq!(v.to_vec()?, v_hand, "{name}: vector after step {step}");
            assert_eq!(w.grad().unwrap().to_vec()?, gw, "{name}: step must not touch the gradient");
            if config.momentum != 0.0 {
                assert_eq!(opt.momentum_buffer(0).unwrap().to_vec()?, w_buf.clone().unwrap(), "{name}: buffer");
            } else {
                assert!(opt.momentum_buffer(0).is_none());
            }
        }
    }
    Ok(())
}

/// End to end: gradients from autograd, the same trajectory to rounding.
#[test]
fn every_option_follows_the_rule_with_autograd_gradients() -> Result<()> {
    let a = Tensor::new([1.0, 0.5, 3.0, 0.25]);
    let c = Tensor::new([0.3, -1.0, 0.2, 2.0]);
    for (name, config) in configs() {
        let start = vec![0.5, -1.5, 2.0, 0.1];
        let theta = Tensor::new(start.clone()).requires_grad_(true)?;
        let mut opt = SGD::with_config([theta.clone()], config)?;
        let (mut hand, mut buf) = (start, None);
        for step in 0..8 {
            opt.zero_grad();
            let loss = theta.square()?.mul(&a)?.sum()?.add(&theta.mul(&c)?.sum()?)?;
            loss.backward()?;
            opt.step()?;
            let g = problem_grad(&hand);
            hand_step(&mut hand, &g, &mut buf, &config);
            for (got, want) in theta.to_vec()?.iter().zip(&hand) {
                assert!((got - want).abs() <= 1e-13 * want.abs().max(1.0), "{name} step {step}: {got} vs {want}");
            }
        }
    }
    Ok(())
}

#[test]
fn f32_follows_the_rule_exactly() -> Result<()> {
    let config = SgdConfig::new(0.01).momentum(0.9).dampening(0.1).weight_decay(0.3);
    let (lr, m, keep, wd) = (0.01f32, 0.9f32, (1.0 - 0.1f64) as f32, 0.3f32);
    let p = Tensor::<f32>::new([1.0, -2.0, 0.5]).requires_grad_(true)?;
    let mut opt = SGD::with_config([p.clone()], config)?;
    let (mut hand, mut buf) = (vec![1.0f32, -2.0, 0.5], vec![0.0f32; 3]);
    for step in 0..5 {
        let g: Vec<f32> = hand.iter().map(|t| 3.0 * t - 0.7).collect();
        p.set_grad(Some(Tensor::new(g.clone())))?;
        opt.step()?;
        for i in 0..3 {
            let gi = g[i] + wd * hand[i];
            buf[i] = if step == 0 { gi } else { m * buf[i] + keep * gi };
            hand[i] -= lr * buf[i];
        }
        assert_eq!(p.to_vec()?, hand, "step {step}");
    }
    Ok(())
}

#[test]
fn parameters_without_gradient_are_skipped_and_keep_their_momentum() -> Result<()> {
    let config = SgdConfig::new(0.1).momentum(0.9);
    let (p, q) = (Tensor::new([1.0]).requires_grad_(true)?, Tensor::new([2.0]).requires_grad_(true)?);
    let mut opt = SGD::with_config([p.clone(), q.clone()], config)?;
    p.set_grad(Some(Tensor::new([1.0])))?;
    opt.step()?;
    assert_eq!((p.to_vec()?, q.to_vec()?), (vec![0.9], vec![2.0]));
    assert!(opt.momentum_buffer(1).is_none());
    opt.zero_grad();
    assert!(p.grad().is_none() && q.grad().is_none());
    q.set_grad(Some(Tensor::new([1.0])))?;
    opt.step()?;
    // q's first real step starts its buffer at g; p did not move.
    assert_eq!((p.to_vec()?, q.to_vec()?), (vec![0.9], vec![1.9]));
    assert_eq!(opt.momentum_buffer(1).unwrap().to_vec()?, vec![1.0]);
    assert_eq!(opt.momentum_buffer(0).unwrap().to_vec()?, vec![1.0]);
    Ok(())
}

#[test]
fn a_step_before_backward_invalidates_the_saved_graph() -> Result<()> {
    let w = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    let mut opt = SGD::new([w.clone()], 0.1)?;
    let first = w.square()?.sum()?;
    first.backward_retain_graph(None)?;
    opt.step()?;
    let err = first.backward().unwrap_err().to_string();
    assert!(err.contains("modified by an in-place operation"), "{err}");
    Ok(())
}

#[test]
fn linear_mse_sgd_matches_manual_gradient_descent() -> Result<()> {
    // The T1 tutorial in miniature: y_hat = b + w x, delta = 2 (y_hat - y) / m, b -= lr Σ delta, w -= lr delta·x.
    let mut rng = StdRng::seed_from_u64(3);
    let model = Linear::<f64>::with_rng(1, 1, true, &mut rng);
    let (mut w, mut b) = (model.weight().item()?, model.bias().unwrap().item()?);
    let xs: Vec<f64> = (0..12).map(|i| i as f64 * 0.3 - 1.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 2.5 * x + 0.7 + (x * 7.0).sin() * 0.1).collect();
    let x = Tensor::from_vec(xs.clone(), &[12, 1])?;
    let y = Tensor::from_vec(ys.clone(), &[12, 1])?;
    let lr = 0.05;
    let mut opt = SGD::new(model.parameters(), lr)?;
    for _ in 0..50 {
        opt.zero_grad();
        MSELoss::new().forward(&model.forward(&x)?, &y)?.backward()?;
        opt.step()?;
        let delta: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 2.0 * (b + w * x - y) / 12.0).collect();
        b -= lr * delta.iter().sum::<f64>();
        w -= lr * delta.iter().zip(&xs).map(|(d, x)| d * x).sum::<f64>();
    }
    assert!((model.weight().item()? - w).abs() < 1e-12 && (model.bias().unwrap().item()? - b).abs() < 1e-12);
    Ok(())
}

#[test]
fn set_lr_changes_later_steps() -> Result<()> {
    let p = Tensor::new([1.0]).requires_grad_(true)?;
    let mut opt = SGD::new([p.clone()], 0.1)?;
    opt.set_lr(0.5)?;
    p.set_grad(Some(Tensor::new([1.0])))?;
    opt.step()?;
    assert_eq!(p.to_vec()?, vec![0.5]);
    assert_eq!(
        opt.set_lr(f64::INFINITY).unwrap_err().to_string(),
        "SGD: invalid learning rate: inf (must be finite and >= 0)"
    );
    assert_eq!(opt.config().lr, 0.5);
    Ok(())
}

#[test]
fn invalid_hyperparameters_are_errors_naming_the_value() -> Result<()> {
    let p = || Tensor::<f64>::zeros(&[2]).requires_grad_(true).unwrap();
    let err = |c: SgdConfig| SGD::with_config([p()], c).err().expect("should fail").to_string();
    assert_eq!(err(SgdConfig::new(-0.01)), "SGD: invalid learning rate: -0.01 (must be finite and >= 0)");
    assert_eq!(err(SgdConfig::new(f64::NAN)), "SGD: invalid learning rate: NaN (must be finite and >= 0)");
    assert_eq!(err(SgdConfig::new(0.1).momentum(-0.5)), "SGD: invalid momentum value: -0.5 (must be finite and >= 0)");
    assert_eq!(
        err(SgdConfig::new(0.1).weight_decay(-1e-4)),
        "SGD: invalid weight_decay value: -0.0001 (must be finite and >= 0)"
    );
    assert_eq!(err(SgdConfig::new(0.1).dampening(f64::NAN)), "SGD: invalid dampening value: NaN (must be finite)");
    assert_eq!(
        err(SgdConfig::new(0.1).nesterov(true)),
        "SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum 0, dampening 0)"
    );
    assert_eq!(
        err(SgdConfig::new(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
        "SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum 0.9, dampening 0.1)"
    );
    let none: [Tensor<f64>; 0] = [];
    assert_eq!(SGD::new(none, 0.1).err().unwrap().to_string(), "SGD: optimizer got an empty parameter list");
    let non_leaf = (&p() * 2.0).requires_grad_(true)?;
    assert_eq!(
        SGD::new([non_leaf], 0.1).err().unwrap().to_string(),
        "SGD: can't optimize a non-leaf tensor (parameter 0, shape [2])"
    );
    let q = p();
    assert_eq!(
        SGD::new([p(), q.clone(), q], 0.1).err().unwrap().to_string(),
        "SGD: parameter 2 is the same tensor as parameter 1"
    );
    Ok(())
}

#[test]
fn step_leaves_the_graph_alone() -> Result<()> {
    // The update happens under no_grad, so parameters stay leaves and later forwards record normally.
    let p = Tensor::new([1.0, 2.0]).requires_grad_(true)?;
    let mut opt = SGD::with_config([p.clone()], SgdConfig::new(0.1).momentum(0.9))?;
    p.square()?.sum()?.backward()?;
    opt.step()?;
    assert!(p.is_leaf() && p.requires_grad());
    assert!(no_grad(|| p.square())?.grad_fn_name().is_none());
    assert_eq!(p.square()?.grad_fn_name(), Some("PowBackward0"));
    Ok(())
}

/// The one-pass CPU loop and the tensor-op path (taken by a non-contiguous, here transposed, leaf) agree
/// bit for bit.
#[test]
fn strided_parameters_take_the_general_path_with_identical_results() -> Result<()> {
    let mixed = SgdConfig::new(0.03).momentum(0.9).dampening(0.1).weight_decay(0.01).maximize(true);
    let nesterov = SgdConfig::new(0.03).momentum(0.8).nesterov(true).weight_decay(0.2);
    for config in [mixed, nesterov, SgdConfig::new(0.1), SgdConfig::new(0.1).weight_decay(0.5)] {
        let init = [[0.3f32, -1.7, 2.9], [0.1, 4.0, -0.6]];
        let contiguous = Tensor::new(init).requires_grad_(true)?;
        let strided = Tensor::new(init).t()?.requires_grad_(true)?;
        assert!(!strided.is_contiguous() && strided.is_leaf());
        let mut opts = [SGD::with_config([contiguous.clone()], config)?, SGD::with_config([strided.clone()], config)?];
        for step in 0..5 {
            let scale = 1.0 + step as f32 * 0.37;
            contiguous.square()?.sum()?.mul_scalar(scale)?.backward()?;
            strided.square()?.sum()?.mul_scalar(scale)?.backward()?;
            for opt in &mut opts {
                opt.step()?;
                opt.zero_grad();
            }
            assert_eq!(contiguous.to_vec()?, strided.t()?.to_vec()?, "{config:?} step {step}");
        }
    }
    Ok(())
}
