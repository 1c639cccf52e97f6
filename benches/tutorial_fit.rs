//! The T1/T2 tutorial fit end to end, torchlet beside libtorch: 10 100 samples from `make_regression`, the
//! first 100 for training in (unshuffled) batches of 33, the other 10 000 for validation in one batch;
//! 16 epochs at lr 0.01, f64, each epoch training on every batch and then computing the validation loss.
//!
//! * `torchlet_autodiff`: `regression::fit` of `AutodiffLinear` (`nn::Linear` + `MSELoss` + `SGD`).
//! * `torchlet_manual`: `regression::fit` of `ManualLinear` (hand-derived gradients, no graph).
//! * `libtorch`: the same loop written directly on tch tensors (`linear`, `mse_loss`, libtorch's SGD), over
//!   the same batches converted to tch tensors once, outside the timing.
//!
//! Each iteration starts from the same parameters (the model is rebuilt in untimed setup); both sides read
//! every batch loss back as a number, as the tutorial's loop does to print the epoch means.

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use torchlet::data::{make_regression, DataLoader, MakeRegression, TensorDataset};
use torchlet::nn::Linear;
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{fit, AutodiffLinear, ManualLinear};

const LR: f64 = 0.01;
const EPOCHS: usize = 16;
const N_TRAIN: usize = 100;
const BATCH: usize = 33;
const SEED: u64 = 2024;

/// The tutorial's data and initial layer for `n_features` (1: T1, with a 1-D x; 4: T2).
struct Problem {
    x_train: Tensor<f64>,
    y_train: Tensor<f64>,
    x_valid: Tensor<f64>,
    y_valid: Tensor<f64>,
    linear: Linear<f64>,
}

impl Problem {
    fn new(n_features: usize) -> Result<Self> {
        let mut rng = StdRng::seed_from_u64(SEED);
        let config = MakeRegression {
            n_samples: 10_100,
            n_features,
            n_informative: if n_features == 1 { 1 } else { 3 },
            n_targets: 1,
            bias: rng.random_range(0.0..1.0),
            noise: 1.0,
            seed: SEED,
            ..Default::default()
        };
        let data = make_regression::<f64>(&config)?;
        let x = if n_features == 1 { data.x.squeeze()? } else { data.x };
        let n_valid = x.shape()[0] - N_TRAIN;
        Ok(Problem {
            x_train: x.narrow(0, 0, N_TRAIN)?,
            y_train: data.y.narrow(0, 0, N_TRAIN)?,
            x_valid: x.narrow(0, N_TRAIN, n_valid)?,
            y_valid: data.y.narrow(0, N_TRAIN, n_valid)?,
            linear: Linear::with_rng(n_features, 1, true, &mut rng),
        })
    }

    fn loaders(&self) -> Result<(DataLoader<f64>, DataLoader<f64>)> {
        let train = DataLoader::new(TensorDataset::new(vec![self.x_train.clone(), self.y_train.clone()])?, BATCH)?;
        let n_valid = self.y_valid.numel();
        let valid = DataLoader::new(TensorDataset::new(vec![self.x_valid.clone(), self.y_valid.clone()])?, n_valid)?;
        Ok((train, valid))
    }

    fn autodiff(&self) -> Result<AutodiffLinear<f64>> {
        AutodiffLinear::new(Linear::from_parameters(self.linear.weight(), self.linear.bias())?, LR)
    }

    fn manual(&self) -> Result<ManualLinear<f64>> {
        let features = self.linear.in_features();
        let mut model = ManualLinear::from_parameters(Tensor::zeros(&[features]), Some(Tensor::zeros(&[1])), LR)?;
        model.copy_from_linear(&self.linear)?;
        Ok(model)
    }
}

fn bench_fit(c: &mut Criterion, name: &str, n_features: usize) -> Result<()> {
    let problem = Problem::new(n_features)?;
    let mut group = c.benchmark_group(name);
    group.bench_function("torchlet_autodiff", |b| {
        b.iter_batched(
            || (problem.autodiff().unwrap(), problem.loaders().unwrap()),
            |(mut model, (mut train, mut valid))| {
                fit(&mut model, &mut train, &mut valid, EPOCHS, |_, t, v| {
                    black_box((t, v));
                })
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("torchlet_manual", |b| {
        b.iter_batched(
            || (problem.manual().unwrap(), problem.loaders().unwrap()),
            |(mut model, (mut train, mut valid))| {
                fit(&mut model, &mut train, &mut valid, EPOCHS, |_, t, v| {
                    black_box((t, v));
                })
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    #[cfg(feature = "tch")]
    libtorch::bench(&mut group, &problem)?;
    group.finish();
    Ok(())
}

#[cfg(feature = "tch")]
mod libtorch {
    use super::{Problem, BATCH, EPOCHS, LR};
    use criterion::{measurement::WallTime, BatchSize, BenchmarkGroup};
    use std::hint::black_box;
    use tch::{Reduction, Tensor};
    use torchlet::Result;
    use torchlet_tutorials::libtorch::to_tch;

    /// `linear(x)` in the target's shape, as `AutodiffLinear` and `TchLinear` compute it: a 1-D batch into
    /// a one-input layer is a column of scalars, and the `[m, 1]` output is squeezed back to `[m]`.
    fn forward(x: &Tensor, linear: &tch::nn::Linear) -> Tensor {
        if x.dim() == 1 {
            x.unsqueeze(1).linear(&linear.ws, linear.bs.as_ref()).squeeze_dim(1)
        } else {
            x.linear(&linear.ws, linear.bs.as_ref()).squeeze_dim(1)
        }
    }

    /// The tutorial loop on tch tensors; returns each epoch's (mean train loss, validation loss).
    fn fit(
        batches: &[(Tensor, Tensor)],
        valid: &(Tensor, Tensor),
        linear: &tch::nn::Linear,
        opt: &mut tch::nn::Optimizer,
    ) -> Vec<(f64, f64)> {
        let mut history = Vec::with_capacity(EPOCHS);
        for _ in 0..EPOCHS {
            let mut train_sum = 0.0;
            for (x, y) in batches {
                let loss = forward(black_box(x), linear).mse_loss(y, Reduction::Mean);
                opt.zero_grad();
                loss.backward();
                opt.step();
                train_sum += loss.double_value(&[]);
            }
            let valid_loss =
                tch::no_grad(|| forward(&valid.0, linear).mse_loss(&valid.1, Reduction::Mean).double_value(&[]));
            history.push((train_sum / batches.len() as f64, valid_loss));
        }
        history
    }

    pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, problem: &Problem) -> Result<()> {
        // The same batches as the torchlet DataLoader (unshuffled, last one short), converted once.
        let mut batches = Vec::new();
        for start in (0..problem.y_train.numel()).step_by(BATCH) {
            let len = BATCH.min(problem.y_train.numel() - start);
            batches.push((
                to_tch(&problem.x_train.narrow(0, start, len)?)?,
                to_tch(&problem.y_train.narrow(0, start, len)?)?,
            ));
        }
        let valid = (to_tch(&problem.x_valid)?, to_tch(&problem.y_valid)?);
        // The twins must compute the same thing: compare one fit's history with torchlet's before timing.
        let history = {
            let (_vs, linear, mut opt) = crate::common::tch_linear(problem.linear.weight(), problem.linear.bias(), LR)?;
            fit(&batches, &valid, &linear, &mut opt)
        };
        let (mut model, (mut train, mut valid_loader)) = (problem.autodiff()?, problem.loaders()?);
        let ours =
            torchlet_tutorials::regression::fit(&mut model, &mut train, &mut valid_loader, EPOCHS, |_, _, _| {})?;
        let ours: Vec<(f64, f64)> = ours.train.into_iter().zip(ours.valid).collect();
        let worst = ours
            .iter()
            .zip(&history)
            .flat_map(|(a, b)| [(a.0 - b.0).abs() / b.0.abs().max(1e-12), (a.1 - b.1).abs() / b.1.abs().max(1e-12)])
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "torchlet and libtorch fits differ: relative {worst:e}\n{ours:?}\n{history:?}");
        group.bench_function("libtorch", |b| {
            b.iter_batched(
                || crate::common::tch_linear(problem.linear.weight(), problem.linear.bias(), LR).unwrap(),
                |(_vs, linear, mut opt)| fit(&batches, &valid, &linear, &mut opt),
                BatchSize::SmallInput,
            )
        });
        Ok(())
    }
}

fn benches(c: &mut Criterion) {
    common::set_libtorch_threads();
    bench_fit(c, "t1_fit_f64", 1).expect("T1 fit benchmark failed");
    bench_fit(c, "t2_fit_f64", 4).expect("T2 fit benchmark failed");
}

criterion_group! {
    name = tutorial_fit;
    config = common::criterion();
    targets = benches
}
criterion_main!(tutorial_fit);
