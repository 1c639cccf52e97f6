//! The optimizers' state dicts: torch's names, a round trip that resumes training exactly, and the
//! checks on what is loaded.

use torchlet::optim::{Adam, AdamConfig, AdamW, Optimizer, RMSprop, RmsPropConfig, SgdConfig, SGD};
use torchlet::{Result, Tensor};

type Make = fn(Vec<Tensor<f64>>) -> Result<Box<dyn Optimizer<f64>>>;

fn makers() -> Vec<(&'static str, Make)> {
    vec![
        ("SGD", |p| Ok(Box::new(SGD::with_config(p, SgdConfig::new(0.05).momentum(0.9).nesterov(true))?))),
        ("Adam", |p| Ok(Box::new(Adam::with_config(p, AdamConfig::new(0.05).amsgrad(true).weight_decay(0.1))?))),
        ("AdamW", |p| Ok(Box::new(AdamW::new(p, 0.05)?))),
        ("RMSprop", |p| Ok(Box::new(RMSprop::with_config(p, RmsPropConfig::new(0.01).momentum(0.5).centered(true))?))),
    ]
}

/// Three parameters; the last never gets a gradient. The gradient of `Σ θ³` keeps the trajectory
/// non-trivial.
fn params() -> Result<Vec<Tensor<f64>>> {
    Ok(vec![
        Tensor::new([[0.5, -1.5], [2.0, 0.1]]).requires_grad_(true)?,
        Tensor::new([0.3, -0.7, 1.1]).requires_grad_(true)?,
        Tensor::new([9.0]).requires_grad_(true)?,
    ])
}

fn train(opt: &mut dyn Optimizer<f64>, steps: usize) -> Result<()> {
    let trained: Vec<Tensor<f64>> = opt.params()[..2].to_vec();
    for _ in 0..steps {
        opt.zero_grad();
        for p in &trained {
            p.powi(3)?.sum()?.backward()?;
        }
        opt.step()?;
    }
    Ok(())
}

fn copies(params: &[Tensor<f64>]) -> Result<Vec<Tensor<f64>>> {
    params.iter().map(|p| p.detach().deep_clone()?.requires_grad_(true)).collect()
}

#[test]
fn state_dict_names_follow_torch() -> Result<()> {
    let expected: [(&str, &[&str]); 4] = [
        ("SGD", &["momentum_buffer"]),
        ("Adam", &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
        ("AdamW", &["step", "exp_avg", "exp_avg_sq"]),
        ("RMSprop", &["step", "square_avg", "momentum_buffer", "grad_avg"]),
    ];
    for ((name, make), (_, keys)) in makers().into_iter().zip(expected) {
        let mut opt = make(params()?)?;
        assert!(opt.state_dict().is_empty(), "{name}: no state before the first step");
        train(opt.as_mut(), 2)?;
        let names: Vec<String> = opt.state_dict().into_iter().map(|(n, _)| n).collect();
        let want: Vec<String> = (0..2).flat_map(|i| keys.iter().map(move |k| format!("state.{i}.{k}"))).collect();
        assert_eq!(names, want, "{name}");
    }
    Ok(())
}

#[test]
fn a_loaded_state_resumes_training_exactly() -> Result<()> {
    for (name, make) in makers() {
        let original = params()?;
        let mut first = make(original.clone())?;
        train(first.as_mut(), 3)?;
        // A second optimizer over copies of the parameters as they are now, given the first one's state.
        let resumed = copies(&original)?;
        let mut second = make(resumed.clone())?;
        second.load_state_dict(&first.state_dict())?;
        let values = |opt: &dyn Optimizer<f64>| -> Vec<(String, Vec<f64>)> {
            opt.state_dict().into_iter().map(|(n, t)| (n, t.to_vec().unwrap())).collect()
        };
        let saved = values(first.as_ref());
        train(second.as_mut(), 4)?;
        // The loaded state is a copy: the first optimizer's buffers did not move with the second's.
        assert_eq!(values(first.as_ref()), saved, "{name}");
        train(first.as_mut(), 4)?;
        for (a, b) in original.iter().zip(&resumed) {
            assert_eq!(a.to_vec()?, b.to_vec()?, "{name}");
        }
        assert_eq!(values(first.as_ref()), values(second.as_ref()), "{name}");
    }
    Ok(())
}

#[test]
fn loading_an_empty_state_clears_it() -> Result<()> {
    for (name, make) in makers() {
        let mut opt = make(params()?)?;
        train(opt.as_mut(), 2)?;
        opt.load_state_dict(&[])?;
        assert!(opt.state_dict().is_empty(), "{name}");
    }
    Ok(())
}

#[test]
fn malformed_states_are_refused_and_leave_the_state_alone() -> Result<()> {
    let mut source = Adam::with_config(params()?, AdamConfig::new(0.05).amsgrad(true))?;
    train(&mut source, 2)?;
    let good = source.state_dict();
    let mut opt = Adam::with_config(params()?, AdamConfig::new(0.05).amsgrad(true))?;
    train(&mut opt, 1)?;
    let before: Vec<(String, Vec<f64>)> = opt.state_dict().into_iter().map(|(n, t)| (n, t.to_vec().unwrap())).collect();

    let with = |name: &str, t: Tensor<f64>| {
        let mut s = good.clone();
        s.push((name.to_string(), t));
        s
    };
    let without = |name: &str| good.iter().filter(|(n, _)| n != name).cloned().collect::<Vec<_>>();
    let replaced = |name: &str, t: Tensor<f64>| {
        good.iter().map(|(n, old)| (n.clone(), if n == name { t.clone() } else { old.clone() })).collect::<Vec<_>>()
    };
    let cases = [
        (with("exp_avg", Tensor::zeros(&[1])), "Adam::load_state_dict: state entry \"exp_avg\" is not named state.<index>.<key>"),
        (with("state.x.exp_avg", Tensor::zeros(&[1])), "Adam::load_state_dict: state entry \"state.x.exp_avg\" is not named state.<index>.<key>"),
        (
            with("state.3.step", Tensor::scalar(1.0)),
            "Adam::load_state_dict: state entry \"state.3.step\" is for parameter 3, but the optimizer has 3",
        ),
        (
            with("state.0.momentum_buffer", Tensor::zeros(&[2, 2])),
            "Adam::load_state_dict: state entry \"state.0.momentum_buffer\": unknown key \"momentum_buffer\" (expected one of [\"step\", \"exp_avg\", \"exp_avg_sq\", \"max_exp_avg_sq\"])",
        ),
        (with("state.0.step", Tensor::scalar(1.0)), "Adam::load_state_dict: state entry \"state.0.step\" is given twice"),
        (without("state.1.max_exp_avg_sq"), "Adam::load_state_dict: the state of parameter 1 lacks state.1.max_exp_avg_sq"),
        (without("state.0.step"), "Adam::load_state_dict: the state of parameter 0 lacks state.0.step"),
        (
            replaced("state.1.exp_avg", Tensor::zeros(&[2])),
            "Adam::load_state_dict: state.1.exp_avg has shape [2], but parameter 1 has shape [3]",
        ),
        (
            replaced("state.0.step", Tensor::scalar(1.5)),
            "Adam::load_state_dict: state.0.step must be one whole number >= 0 (got shape [])",
        ),
    ];
    for (state, want) in cases {
        assert_eq!(opt.load_state_dict(&state).unwrap_err().to_string(), want);
        let now: Vec<(String, Vec<f64>)> =
            opt.state_dict().into_iter().map(|(n, t)| (n, t.to_vec().unwrap())).collect();
        assert_eq!(now, before, "a refused load must not change the state");
    }
    // Without AMSGrad the max buffer is an unknown key.
    let mut plain = Adam::new(params()?, 0.05)?;
    assert!(plain.load_state_dict(&good).unwrap_err().to_string().contains("unknown key \"max_exp_avg_sq\""));
    Ok(())
}

#[test]
fn sgd_through_the_trait_keeps_its_inherent_behaviour() -> Result<()> {
    let w = Tensor::new([1.0, -2.0]).requires_grad_(true)?;
    let mut opt = SGD::with_config([w.clone()], SgdConfig::new(0.1).momentum(0.9))?;
    let dynamic: &mut dyn Optimizer<f64> = &mut opt;
    assert_eq!((dynamic.lr(), dynamic.momentum()), (0.1, 0.9));
    w.square()?.sum()?.backward()?;
    dynamic.step()?;
    assert_eq!(w.to_vec()?, vec![0.8, -1.6]);
    dynamic.set_momentum(0.5)?;
    dynamic.set_lr(0.2)?;
    dynamic.zero_grad();
    assert!(w.grad().is_none());
    assert_eq!(opt.config().momentum, 0.5);
    assert_eq!(opt.config().lr, 0.2);
    let err = Optimizer::set_momentum(
        &mut SGD::with_config([w.clone()], SgdConfig::new(0.1).momentum(0.9).nesterov(true))?,
        0.0,
    );
    assert!(err.unwrap_err().to_string().starts_with("SGD: Nesterov momentum requires a momentum > 0"));
    Ok(())
}

#[test]
fn param_groups_hold_torchs_hyperparameters_and_round_trip() -> Result<()> {
    let expected: [(&str, &[&str]); 4] = [
        ("SGD", &["dampening", "lr", "maximize", "momentum", "nesterov", "weight_decay"]),
        ("Adam", &["amsgrad", "betas", "eps", "lr", "maximize", "weight_decay"]),
        ("AdamW", &["amsgrad", "betas", "eps", "lr", "maximize", "weight_decay"]),
        ("RMSprop", &["alpha", "centered", "eps", "lr", "maximize", "momentum", "weight_decay"]),
    ];
    for ((name, make), (_, keys)) in makers().into_iter().zip(expected) {
        let mut trained = make(params()?)?;
        trained.set_lr(0.0123)?;
        trained.set_momentum(0.77)?;
        let group = trained.param_group();
        assert_eq!(group.keys().collect::<Vec<_>>(), *keys, "{name}");
        let text = serde_json::to_string(&group).unwrap();
        let mut fresh = make(params()?)?;
        fresh.load_param_group(&serde_json::from_str(&text).unwrap())?;
        assert_eq!((fresh.lr(), fresh.momentum()), (0.0123, 0.77), "{name}");
        assert_eq!(fresh.param_group(), group, "{name}");
    }
    Ok(())
}

#[test]
fn a_param_group_of_another_kind_or_with_bad_values_is_refused() -> Result<()> {
    let adam = Adam::with_config(params()?, AdamConfig::new(0.05).amsgrad(true))?;
    let mut sgd = SGD::with_config(params()?, SgdConfig::new(0.1).momentum(0.9))?;
    let before = sgd.param_group();
    assert_eq!(
        sgd.load_param_group(&adam.param_group()).unwrap_err().to_string(),
        "SGD::load_param_group: the keys do not match SGD's parameter group: missing key(s) [\"momentum\", \
         \"dampening\", \"nesterov\"], unexpected key(s) [\"amsgrad\", \"betas\", \"eps\"]"
    );
    let mut bad = before.clone();
    bad.insert("lr".to_string(), (-1.0).into());
    assert_eq!(
        sgd.load_param_group(&bad).unwrap_err().to_string(),
        "SGD::load_param_group: invalid learning rate: -1 (must be finite and >= 0)"
    );
    assert_eq!(sgd.param_group(), before, "a refused group changes nothing");

    // AMSGrad decides which state Adam keeps, so it must match.
    let mut plain = Adam::new(params()?, 0.05)?;
    assert_eq!(
        plain.load_param_group(&adam.param_group()).unwrap_err().to_string(),
        "Adam::load_param_group: \"amsgrad\": true, but this Adam was made with amsgrad false, which keeps other state"
    );
    // torch's implementation flags and parameter indices are accepted and ignored.
    let mut torch_like = adam.param_group();
    torch_like.insert("params".to_string(), vec![0, 1, 2].into());
    torch_like.insert("foreach".to_string(), serde_json::Value::Null);
    let mut other = Adam::with_config(params()?, AdamConfig::new(0.5).amsgrad(true))?;
    other.load_param_group(&torch_like)?;
    assert_eq!(other.config(), adam.config());
    Ok(())
}
