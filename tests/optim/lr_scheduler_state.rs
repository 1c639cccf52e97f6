//! The schedulers' state dicts: torch's keys, a JSON round trip that continues the schedule to the bit,
//! and the refusal of another scheduler's state.

use std::fmt::Debug;

use torchlet::optim::lr_scheduler::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LRScheduler, LinearLR, MultiStepLR, OneCycleConfig, OneCycleLR,
    StepLR,
};
use torchlet::optim::{Optimizer, SgdConfig, StateDict, SGD};
use torchlet::{Result, Tensor};

fn sgd(lr: f64) -> SGD<f64> {
    let w = Tensor::zeros(&[2]).requires_grad_(true).unwrap();
    SGD::with_config([w], SgdConfig::new(lr).momentum(0.5)).unwrap()
}

/// Through JSON text and back, as a checkpoint stores it.
fn through_json(state: &StateDict) -> StateDict {
    serde_json::from_str(&serde_json::to_string(state).unwrap()).unwrap()
}

/// Runs `before` steps, saves the scheduler's state and the optimizer's parameter group, loads both into a
/// scheduler and an optimizer made afresh (with another learning rate), and checks that the next `after`
/// steps give the same learning rates and momenta to the bit.
fn resumes_exactly<S: LRScheduler + PartialEq + Debug>(
    name: &str,
    make: impl Fn(&mut SGD<f64>) -> Result<S>,
    before: usize,
    after: usize,
) -> Result<()> {
    let mut opt = sgd(0.1);
    let mut scheduler = make(&mut opt)?;
    for _ in 0..before {
        scheduler.step(&mut opt)?;
    }
    let (state, group) = (through_json(&scheduler.state_dict()), through_json(&opt.param_group()));

    let mut opt2 = sgd(7.0);
    let mut scheduler2 = make(&mut opt2)?;
    scheduler2.load_state_dict(&state)?;
    opt2.load_param_group(&group)?;
    assert_eq!(scheduler2, scheduler, "{name}: the loaded scheduler is the saved one");
    assert_eq!(scheduler2.last_epoch(), before, "{name}");
    for _ in 0..after {
        scheduler.step(&mut opt)?;
        scheduler2.step(&mut opt2)?;
        let bits = |s: &S, o: &SGD<f64>| (s.get_last_lr().to_bits(), o.lr().to_bits(), o.momentum().to_bits());
        assert_eq!(bits(&scheduler2, &opt2), bits(&scheduler, &opt), "{name} at epoch {}", scheduler.last_epoch());
    }
    Ok(())
}

#[test]
fn every_scheduler_resumes_to_the_bit_through_json() -> Result<()> {
    resumes_exactly("StepLR", |o| StepLR::new(o, 3, 0.3), 4, 8)?;
    resumes_exactly("MultiStepLR", |o| MultiStepLR::new(o, [9, 2, 5, 5], 0.7), 3, 8)?;
    resumes_exactly("ExponentialLR", |o| ExponentialLR::new(o, 0.93), 5, 10)?;
    resumes_exactly("CosineAnnealingLR", |o| CosineAnnealingLR::new(o, 7, 0.001), 9, 20)?;
    resumes_exactly("LinearLR", |o| LinearLR::new(o, 0.3, 0.9, 6), 2, 8)?;
    resumes_exactly("OneCycleLR", |o| OneCycleLR::new(o, OneCycleConfig::new(0.7, 23)), 4, 19)?;
    let three = OneCycleConfig {
        anneal_strategy: AnnealStrategy::Linear,
        three_phase: true,
        pct_start: 0.37,
        ..OneCycleConfig::new(0.3, 31)
    };
    resumes_exactly("OneCycleLR, three linear phases", |o| OneCycleLR::new(o, three), 12, 18)?;
    // Saved right after construction, and at the very end.
    resumes_exactly("StepLR at epoch 0", |o| StepLR::new(o, 2, 0.5), 0, 5)?;
    resumes_exactly("OneCycleLR at its last step", |o| OneCycleLR::new(o, OneCycleConfig::new(0.7, 9)), 9, 0)
}

fn keys(state: &StateDict) -> Vec<&str> {
    state.keys().map(String::as_str).collect()
}

#[test]
fn state_dicts_hold_torchs_keys() -> Result<()> {
    let mut opt = sgd(0.1);
    let common = ["_last_lr", "_step_count", "base_lrs", "last_epoch"];
    let with = |own: &[&'static str]| {
        let mut all: Vec<&str> = common.iter().chain(own).copied().collect();
        all.sort();
        all
    };
    let mut step = StepLR::new(&mut opt, 3, 0.5)?;
    step.step(&mut opt)?;
    step.step(&mut opt)?;
    let state = step.state_dict();
    assert_eq!(keys(&state), with(&["gamma", "step_size"]));
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"_last_lr":[0.1],"_step_count":3,"base_lrs":[0.1],"gamma":0.5,"last_epoch":2,"step_size":3}"#
    );
    let multi = MultiStepLR::new(&mut opt, [4, 2, 4], 0.5)?.state_dict();
    assert_eq!(keys(&multi), with(&["gamma", "milestones"]));
    assert_eq!(multi["milestones"].to_string(), r#"{"2":1,"4":2}"#, "torch's Counter");
    assert_eq!(keys(&ExponentialLR::new(&mut opt, 0.5)?.state_dict()), with(&["gamma"]));
    assert_eq!(keys(&CosineAnnealingLR::new(&mut opt, 5, 0.0)?.state_dict()), with(&["T_max", "eta_min"]));
    let linear = LinearLR::new(&mut opt, 0.5, 1.0, 4)?.state_dict();
    assert_eq!(keys(&linear), with(&["end_factor", "start_factor", "total_iters"]));

    let one_cycle = OneCycleLR::new(&mut opt, OneCycleConfig::new(1.0, 10))?.state_dict();
    let own = [
        "_anneal_func_type",
        "_schedule_phases",
        "base_momentum",
        "cycle_momentum",
        "div_factor",
        "final_div_factor",
        "initial_lr",
        "max_lr",
        "max_momentum",
        "min_lr",
        "pct_start",
        "three_phase",
        "total_steps",
    ];
    assert_eq!(keys(&one_cycle), with(&own));
    assert_eq!(
        one_cycle["_schedule_phases"].to_string(),
        concat!(
            r#"[{"end_lr":"max_lr","end_momentum":"base_momentum","end_step":2.0,"start_lr":"initial_lr","start_momentum":"max_momentum"},"#,
            r#"{"end_lr":"min_lr","end_momentum":"max_momentum","end_step":9.0,"start_lr":"max_lr","start_momentum":"base_momentum"}]"#
        )
    );
    assert_eq!((one_cycle["initial_lr"].as_f64(), one_cycle["base_lrs"][0].as_f64()), (Some(0.04), Some(0.04)));
    assert_eq!(one_cycle["_anneal_func_type"], "cos");
    Ok(())
}

#[test]
fn another_schedulers_state_or_a_bad_value_is_refused_and_changes_nothing() -> Result<()> {
    let mut opt = sgd(0.1);
    let mut step = StepLR::new(&mut opt, 3, 0.5)?;
    step.step(&mut opt)?;
    let good = step.state_dict();
    let mut exponential = ExponentialLR::new(&mut opt, 0.9)?;
    let before = exponential.clone();
    let err = exponential.load_state_dict(&good).unwrap_err().to_string();
    assert_eq!(
        err,
        "ExponentialLR::load_state_dict: the keys do not match ExponentialLR's state: missing key(s) [], \
         unexpected key(s) [\"step_size\"]"
    );
    assert_eq!(exponential, before);

    let edited = |key: &str, value: Option<serde_json::Value>| {
        let mut s = good.clone();
        match value {
            Some(v) => s.insert(key.to_string(), v),
            None => s.remove(key),
        };
        s
    };
    let cases = [
        (
            edited("gamma", None),
            "StepLR::load_state_dict: the keys do not match StepLR's state: missing key(s) [\"gamma\"], \
             unexpected key(s) []",
        ),
        (
            edited("gamma", Some("half".into())),
            "StepLR::load_state_dict: \"gamma\" must be a finite number, but is \"half\"",
        ),
        (
            edited("gamma", Some((-0.5).into())),
            "StepLR::load_state_dict: invalid gamma: -0.5 (must be finite and >= 0)",
        ),
        (edited("step_size", Some(0.into())), "StepLR::load_state_dict: invalid step_size: 0 (must be >= 1)"),
        (
            edited("step_size", Some(2.5.into())),
            "StepLR::load_state_dict: \"step_size\" must be a whole number >= 0, but is 2.5",
        ),
        (
            edited("base_lrs", Some(vec![0.1, 0.2].into())),
            "StepLR::load_state_dict: \"base_lrs\" must be a list of 1 finite number(s), but is [0.1,0.2]",
        ),
        (
            edited("_step_count", Some(7.into())),
            "StepLR::load_state_dict: \"_step_count\": 7 does not follow last_epoch 1 (expected last_epoch + 1)",
        ),
    ];
    let mut target = StepLR::new(&mut opt, 9, 0.9)?;
    let before = target.clone();
    for (state, want) in cases {
        assert_eq!(target.load_state_dict(&state).unwrap_err().to_string(), want);
        assert_eq!(target, before, "a refused state changes nothing");
    }
    // torch's bookkeeping flags are accepted and ignored.
    let torch_like = edited("_get_lr_called_within_step", Some(false.into()));
    target.load_state_dict(&torch_like)?;
    assert_eq!(target, step);

    // A OneCycleLR whose phases do not follow from its settings.
    let mut one_cycle = OneCycleLR::new(&mut opt, OneCycleConfig::new(1.0, 10))?;
    let mut state = one_cycle.state_dict();
    state.insert("pct_start".to_string(), 0.5.into());
    let err = one_cycle.load_state_dict(&state).unwrap_err().to_string();
    assert!(err.starts_with("OneCycleLR::load_state_dict: \"_schedule_phases\": [{"), "{err}");
    assert!(err.contains("does not follow from the other settings"), "{err}");
    state.insert("pct_start".to_string(), 0.3.into());
    state.insert("last_epoch".to_string(), 11.into());
    state.insert("_step_count".to_string(), 12.into());
    let err = one_cycle.load_state_dict(&state).unwrap_err().to_string();
    assert_eq!(err, "OneCycleLR::load_state_dict: \"last_epoch\": 11 is past total_steps 10");
    Ok(())
}

#[test]
fn a_loaded_state_works_through_dyn_scheduler() -> Result<()> {
    let mut opt = sgd(0.1);
    let mut cosine = CosineAnnealingLR::new(&mut opt, 10, 0.0)?;
    cosine.step(&mut opt)?;
    let dynamic: &dyn LRScheduler = &cosine;
    assert_eq!((dynamic.last_epoch(), dynamic.state_dict()["T_max"].as_u64()), (1, Some(10)));
    let mut other = CosineAnnealingLR::new(&mut opt, 10, 0.0)?;
    let target: &mut dyn LRScheduler = &mut other;
    target.load_state_dict(&cosine.state_dict())?;
    assert_eq!(other, cosine);
    Ok(())
}
