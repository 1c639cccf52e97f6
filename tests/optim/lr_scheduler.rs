//! The schedulers' learning-rate sequences: torch's exact values, the closed forms of torch's docs, the
//! chainable behaviour and the checks.

use std::f64::consts::PI;

use torchlet::optim::lr_scheduler::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LRScheduler, LinearLR, MultiStepLR, OneCycleConfig, OneCycleLR,
    StepLR,
};
use torchlet::optim::{Adam, Optimizer, SGD};
use torchlet::{Result, Tensor};

fn sgd(lr: f64) -> SGD<f64> {
    SGD::new([Tensor::zeros(&[2]).requires_grad_(true).unwrap()], lr).unwrap()
}

/// The learning rates of epochs 0..=steps, checking that the optimizer holds each one.
fn sequence<S: LRScheduler>(scheduler: &mut S, opt: &mut SGD<f64>, steps: usize) -> Result<Vec<f64>> {
    let mut lrs = vec![scheduler.get_last_lr()];
    for epoch in 1..=steps {
        scheduler.step(opt)?;
        assert_eq!(scheduler.last_epoch(), epoch);
        assert_eq!(scheduler.get_last_lr(), Optimizer::lr(opt));
        lrs.push(scheduler.get_last_lr());
    }
    Ok(lrs)
}

/// Equal to the closed form up to rounding, relative to the largest learning rate of the schedule.
fn close_to(got: &[f64], closed: impl Fn(usize) -> f64, scale: f64, what: &str) {
    for (e, &lr) in got.iter().enumerate() {
        assert!((lr - closed(e)).abs() <= 1e-13 * scale, "{what} epoch {e}: {lr} vs closed form {}", closed(e));
    }
}

// torch's own values: the expressions of torch.optim.lr_scheduler (get_lr, the chainable forms)
// evaluated on Python floats, whose math.cos is the C library's cos, as Rust's f64::cos.
const COSINE: [f64; 26] = [
    0.1,
    0.09757729755661011,
    0.0905463412215599,
    0.07959536998847742,
    0.0657963412215599,
    0.0505,
    0.03520365877844011,
    0.02140463001152259,
    0.010453658778440109,
    0.0034227024433899004,
    0.001,
    0.0034227024433899004,
    0.01045365877844014,
    0.02140463001152267,
    0.035203658778440255,
    0.05050000000000022,
    0.06579634122156018,
    0.07959536998847777,
    0.09054634122156031,
    0.09757729755661054,
    0.10000000000000045,
    0.09757729755661054,
    0.09054634122156033,
    0.07959536998847778,
    0.0657963412215602,
    0.050500000000000225,
];
const LINEAR: [f64; 7] = [
    0.0125,
    0.021875000000000002,
    0.03125000000000001,
    0.04062500000000001,
    0.05000000000000001,
    0.05000000000000001,
    0.05000000000000001,
];
const ONE_CYCLE_COS_LR: [f64; 21] = [
    0.0040000000000000036,
    0.013167184270002533,
    0.037167184270002526,
    0.06683281572999747,
    0.09083281572999748,
    0.1,
    0.09874640062350874,
    0.09504846320134738,
    0.089091617757105,
    0.0811745653949763,
    0.07169430017913009,
    0.06112620219362893,
    0.0500002,
    0.03887419780637107,
    0.028306099820869922,
    0.0188258346050237,
    0.010908782242895003,
    0.004951936798652629,
    0.0012539993764912555,
    4e-07,
    0.0012539993764912555,
];
const ONE_CYCLE_COS_MOMENTUM: [f64; 21] = [
    0.95,
    0.9404508497187474,
    0.9154508497187474,
    0.8845491502812526,
    0.8595491502812526,
    0.85,
    0.8512536043909088,
    0.854951556604879,
    0.8609084258765984,
    0.8688255099070633,
    0.878305813044122,
    0.8888739533021842,
    0.8999999999999999,
    0.9111260466978157,
    0.9216941869558779,
    0.9311744900929366,
    0.9390915741234015,
    0.945048443395121,
    0.9487463956090911,
    0.95,
    0.9487463956090911,
];
const ONE_CYCLE_LINEAR_3_LR: [f64; 21] = [
    0.004,
    0.023200000000000002,
    0.04240000000000001,
    0.0616,
    0.08080000000000001,
    0.1,
    0.08080000000000001,
    0.0616,
    0.04240000000000001,
    0.0232,
    0.0040000000000000036,
    0.0035556,
    0.0031112,
    0.0026668000000000004,
    0.0022224000000000002,
    0.001778,
    0.0013336000000000003,
    0.0008892000000000001,
    0.0004448000000000004,
    4.0000000000022656e-07,
    -0.00044399999999999995,
];
const ONE_CYCLE_LINEAR_3_MOMENTUM: [f64; 21] = [
    0.95,
    0.9299999999999999,
    0.9099999999999999,
    0.89,
    0.87,
    0.85,
    0.87,
    0.89,
    0.9099999999999999,
    0.9299999999999999,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
    0.95,
];

#[test]
fn cosine_annealing_is_torchs_recursive_form_to_the_bit() -> Result<()> {
    let mut opt = sgd(0.1);
    let mut scheduler = CosineAnnealingLR::new(&mut opt, 10, 0.001)?;
    let lrs = sequence(&mut scheduler, &mut opt, 25)?;
    assert_eq!(lrs, COSINE);
    // The closed form of torch's docs, through the trough at T_max and back up.
    close_to(&lrs, |e| 0.001 + (0.1 - 0.001) * (1.0 + (PI * e as f64 / 10.0).cos()) / 2.0, 0.1, "cosine");
    Ok(())
}

#[test]
fn linear_warmup_is_torchs_recursive_form_to_the_bit() -> Result<()> {
    let mut opt = sgd(0.05);
    let mut scheduler = LinearLR::new(&mut opt, 0.25, 1.0, 4)?;
    let lrs = sequence(&mut scheduler, &mut opt, 6)?;
    assert_eq!(lrs, LINEAR);
    close_to(&lrs, |e| 0.05 * (0.25 + 0.75 * e.min(4) as f64 / 4.0), 0.05, "linear");
    // A decay to a fraction, as torch allows (end_factor < start_factor).
    let mut opt = sgd(1.0);
    let lrs = sequence(&mut LinearLR::new(&mut opt, 1.0, 0.1, 9)?, &mut opt, 12)?;
    close_to(&lrs, |e| 1.0 + (0.1 - 1.0) * e.min(9) as f64 / 9.0, 1.0, "linear decay");
    Ok(())
}

#[test]
fn one_cycle_is_torchs_schedule_to_the_bit() -> Result<()> {
    let run = |config: OneCycleConfig| -> Result<(Vec<f64>, Vec<f64>)> {
        let mut opt = sgd(123.0); // OneCycleLR ignores the optimizer's own learning rate
        let mut scheduler = OneCycleLR::new(&mut opt, config)?;
        let (mut lrs, mut momenta) = (vec![scheduler.get_last_lr()], vec![opt.momentum()]);
        for _ in 0..config.total_steps {
            scheduler.step(&mut opt)?;
            lrs.push(scheduler.get_last_lr());
            momenta.push(opt.momentum());
        }
        let err = scheduler.step(&mut opt).unwrap_err().to_string();
        assert_eq!(err, "OneCycleLR: tried to step 21 times; the specified number of total steps is 20");
        assert_eq!(scheduler.last_epoch(), 20, "a refused step does not count");
        Ok((lrs, momenta))
    };
    let (lrs, momenta) = run(OneCycleConfig::new(0.1, 20))?;
    assert_eq!((lrs.as_slice(), momenta.as_slice()), (&ONE_CYCLE_COS_LR[..], &ONE_CYCLE_COS_MOMENTUM[..]));
    // Closed form from the 1cycle description: cosine from 0.1/25 up to 0.1 over steps 0..=5, then down
    // to 0.1/25/1e4 at step 19.
    let (initial, peak, last) = (0.1 / 25.0, 0.1, 0.1 / 25.0 / 1e4);
    let half_cos = |from: f64, to: f64, t: f64| to + (from - to) * (1.0 + (PI * t).cos()) / 2.0;
    let closed = |s: usize| {
        let s = s as f64;
        if s <= 5.0 {
            half_cos(initial, peak, s / 5.0)
        } else {
            half_cos(peak, last, (s - 5.0) / 14.0)
        }
    };
    close_to(&lrs, closed, 0.1, "one cycle");

    let config =
        OneCycleConfig { anneal_strategy: AnnealStrategy::Linear, three_phase: true, ..OneCycleConfig::new(0.1, 20) };
    let (lrs, momenta) = run(config)?;
    assert_eq!(momenta, ONE_CYCLE_LINEAR_3_MOMENTUM);
    // Step 20 lies past the last phase: torch extrapolates the line below zero, which is floored at 0.
    assert_eq!(lrs[..20], ONE_CYCLE_LINEAR_3_LR[..20]);
    assert!(ONE_CYCLE_LINEAR_3_LR[20] < 0.0 && lrs[20] == 0.0);
    let line = |from: f64, to: f64, t: f64| from + (to - from) * t;
    let closed = |s: usize| match s as f64 {
        s if s <= 5.0 => line(initial, peak, s / 5.0),
        s if s <= 10.0 => line(peak, initial, (s - 5.0) / 5.0),
        s => line(initial, last, (s - 10.0) / 9.0),
    };
    close_to(&lrs[..20], closed, 0.1, "three-phase linear");
    Ok(())
}

#[test]
fn one_cycle_drives_adams_beta1_unless_told_not_to() -> Result<()> {
    let mut adam = Adam::new([Tensor::<f32>::zeros(&[1]).requires_grad_(true)?], 1e-3)?;
    let mut scheduler = OneCycleLR::new(&mut adam, OneCycleConfig::new(0.01, 10))?;
    scheduler.step(&mut adam)?;
    scheduler.step(&mut adam)?;
    assert_eq!((adam.config().betas.0, adam.config().betas.1), (0.85, 0.999));
    let mut sgd = sgd(0.1);
    let config = OneCycleConfig { cycle_momentum: false, ..OneCycleConfig::new(0.01, 10) };
    OneCycleLR::new(&mut sgd, config)?.step(&mut sgd)?;
    assert_eq!(sgd.config().momentum, 0.0);
    Ok(())
}

#[test]
fn step_multistep_and_exponential_follow_their_closed_forms() -> Result<()> {
    let mut opt = sgd(0.5);
    let lrs = sequence(&mut StepLR::new(&mut opt, 3, 0.1)?, &mut opt, 10)?;
    close_to(&lrs, |e| 0.5 * 0.1f64.powi((e / 3) as i32), 0.5, "step");
    assert_eq!(lrs[..4], [0.5, 0.5, 0.5, 0.5 * 0.1]);

    // Milestones in any order, one repeated (torch counts it twice), and bisect_right's closed form.
    let milestones = [7, 2, 5, 5];
    let mut opt = sgd(2.0);
    let lrs = sequence(&mut MultiStepLR::new(&mut opt, milestones, 0.5)?, &mut opt, 9)?;
    let passed = |e: usize| milestones.iter().filter(|&&m| m <= e).count() as i32;
    close_to(&lrs, |e| 2.0 * 0.5f64.powi(passed(e)), 2.0, "multistep");
    assert_eq!(lrs, [2.0, 2.0, 1.0, 1.0, 1.0, 0.25, 0.25, 0.125, 0.125, 0.125]);

    let mut opt = sgd(1.0);
    let lrs = sequence(&mut ExponentialLR::new(&mut opt, 0.9)?, &mut opt, 30)?;
    close_to(&lrs, |e| 0.9f64.powi(e as i32), 1.0, "exponential");
    // Chainable: each value is the previous one times gamma, rounded, as torch's.
    assert!(lrs.windows(2).all(|w| w[1] == w[0] * 0.9));
    Ok(())
}

#[test]
fn chainable_schedulers_carry_on_from_a_learning_rate_set_outside() -> Result<()> {
    let mut opt = sgd(1.0);
    let mut scheduler = ExponentialLR::new(&mut opt, 0.5)?;
    scheduler.step(&mut opt)?;
    opt.set_lr(0.3)?;
    scheduler.step(&mut opt)?;
    assert_eq!(scheduler.get_last_lr(), 0.3 * 0.5);

    let mut opt = sgd(1.0);
    let mut scheduler = StepLR::new(&mut opt, 2, 0.1)?;
    scheduler.step(&mut opt)?;
    opt.set_lr(4.0)?;
    scheduler.step(&mut opt)?;
    assert_eq!(Optimizer::lr(&opt), 4.0 * 0.1);
    Ok(())
}

#[test]
fn invalid_settings_are_errors_naming_the_value() {
    let err = |r: Result<()>| r.unwrap_err().to_string();
    let mut opt = sgd(0.1);
    let cases = [
        (err(StepLR::new(&mut opt, 0, 0.1).map(drop)), "StepLR: invalid step_size: 0 (must be >= 1)"),
        (err(StepLR::new(&mut opt, 2, -0.1).map(drop)), "StepLR: invalid gamma: -0.1 (must be finite and >= 0)"),
        (
            err(MultiStepLR::new(&mut opt, [1], f64::NAN).map(drop)),
            "MultiStepLR: invalid gamma: NaN (must be finite and >= 0)",
        ),
        (
            err(ExponentialLR::new(&mut opt, f64::INFINITY).map(drop)),
            "ExponentialLR: invalid gamma: inf (must be finite and >= 0)",
        ),
        (err(CosineAnnealingLR::new(&mut opt, 0, 0.0).map(drop)), "CosineAnnealingLR: invalid T_max: 0 (must be >= 1)"),
        (
            err(LinearLR::new(&mut opt, 0.0, 1.0, 5).map(drop)),
            "LinearLR: invalid start_factor: 0 (expected greater than 0 and less or equal to 1)",
        ),
        (
            err(LinearLR::new(&mut opt, 0.5, 1.5, 5).map(drop)),
            "LinearLR: invalid end_factor: 1.5 (expected between 0 and 1)",
        ),
        (
            err(OneCycleLR::new(&mut opt, OneCycleConfig::new(0.1, 0)).map(drop)),
            "OneCycleLR: expected a positive integer total_steps, but got 0",
        ),
        (
            err(OneCycleLR::new(&mut opt, OneCycleConfig { pct_start: 1.5, ..OneCycleConfig::new(0.1, 10) }).map(drop)),
            "OneCycleLR: expected a pct_start between 0 and 1, but got 1.5",
        ),
        (
            err(OneCycleLR::new(&mut opt, OneCycleConfig { pct_start: 0.1, ..OneCycleConfig::new(0.1, 10) }).map(drop)),
            "OneCycleLR: phase 0 has no steps (total_steps 10, pct_start 0.1)",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    assert_eq!(Optimizer::lr(&opt), 0.1, "a refused scheduler leaves the learning rate alone");
}
