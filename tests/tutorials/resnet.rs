//! T10b, the residual net with BatchNorm: the hand-written BatchNorm and one-cycle schedule against
//! torchlet's own, the scratch model against the autograd model epoch by epoch in f64, the trained model
//! saved and reloaded, the reached accuracy of the tutorial's f32 run, and (feature `tch`) all of them against
//! libtorch from libtorch's initial parameters, on the same shuffled batches in the same order.

use super::classification::DIGITS_SEED;
use rand::rngs::StdRng;
use rand::SeedableRng;
use torchlet::io::{load_parameters, save_parameters};
use torchlet::nn::functional::batch_norm;
use torchlet::optim::lr_scheduler::{LRScheduler, OneCycleConfig, OneCycleLR};
use torchlet::optim::{Adam, Optimizer};
use torchlet::{Element, Tensor};
use torchlet_tutorials::classification::History;
use torchlet_tutorials::cnn::images;
use torchlet_tutorials::digits::digits_data;
use torchlet_tutorials::resnet::{
    self, batch_norm_backward, batch_norm_train, evaluate, fit_one_cycle, initial_parameters, AutodiffResNet,
    ManualResNet, OneCycle, OneCycleModel,
};
use torchlet_tutorials::Split;

fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn values<T: Element>(t: &Tensor<T>) -> Vec<f64> {
    t.to_vec().unwrap().iter().map(|v| v.to_f64().unwrap()).collect()
}

fn max_abs_diff(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    values(a).iter().zip(values(b)).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The digits as images, the training part cut to its first `train_rows` rows (all of them for `None`).
fn digits<T: Element>(train_rows: Option<usize>) -> Split<T> {
    let mut data = images::<T>(&digits_data(DIGITS_SEED).unwrap()).unwrap();
    if let Some(rows) = train_rows {
        data.x_train = data.x_train.narrow(0, 0, rows).unwrap();
        data.y_train = data.y_train.narrow(0, 0, rows).unwrap();
    }
    data
}

fn loaders<T: Element>(data: &Split<T>) -> (torchlet::data::DataLoader<T>, torchlet::data::DataLoader<T>) {
    data.loaders(resnet::BATCH, resnet::VALID_BATCH, Some(DIGITS_SEED)).unwrap()
}

/// The schedule's length for `epochs` over `data`'s training batches.
fn total_steps<T: Element>(data: &Split<T>, epochs: usize) -> usize {
    epochs * loaders(data).0.len()
}

/// A trained model's record: the per-epoch figures, and its final parameters and running statistics by
/// name.
struct Run {
    name: &'static str,
    history: History,
    state: Vec<(String, Vec<f64>)>,
}

/// Trains `model` with the lesson's `fit_one_cycle` for `epochs`.
fn train<T: Element, M: OneCycleModel<T>>(name: &'static str, model: &mut M, data: &Split<T>, epochs: usize) -> Run {
    let (mut train, mut valid) = loaders(data);
    let (history, lrs) = fit_one_cycle(model, &mut train, &mut valid, epochs, |_| {}).unwrap();
    println!("T10b {name}: last_lr {lrs:.5?}, val_acc {:.4?}", history.accuracy);
    let state = model.state().unwrap().iter().map(|(n, t)| (n.clone(), values(t))).collect();
    Run { name, history, state }
}

/// Largest `|a - b| / |b|` over matching entries.
fn rel(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs()).fold(0.0, f64::max)
}

/// Largest `|a - b|` over the tensors whose names `pick` chooses, relative to each tensor's largest `|b|`.
fn state_gap(a: &Run, b: &Run, pick: impl Fn(&str) -> bool) -> f64 {
    let gap = |x: &[f64], y: &[f64]| {
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        x.iter().zip(y).map(|(p, q)| (p - q).abs() / scale).fold(0.0, f64::max)
    };
    a.state.iter().zip(&b.state).filter(|((n, _), _)| pick(n)).map(|((_, x), (_, y))| gap(x, y)).fold(0.0, f64::max)
}

/// The convolutions' biases and the running means: see NOISE_RTOL.
fn driven_by_rounding(name: &str) -> bool {
    name.ends_with(".0.bias") || name.ends_with("running_mean")
}

fn assert_runs_agree(runs: &[Run]) {
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let (ha, hb) = (&a.history, &b.history);
            let (train, valid) = (rel(&ha.train, &hb.train), rel(&ha.valid, &hb.valid));
            let acc = ha.accuracy.iter().zip(&hb.accuracy).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            let params = state_gap(a, b, |n| !driven_by_rounding(n));
            let noise = state_gap(a, b, driven_by_rounding);
            println!(
                "T10b f64 {} vs {}: train losses {train:.1e}, valid losses {valid:.1e}, accuracy {acc:.1e}, \
                 parameters {params:.1e}, conv biases and running means {noise:.1e}",
                a.name, b.name
            );
            let names = format!("{} vs {}", a.name, b.name);
            assert!(train <= F64_RTOL && params <= F64_PARAM_RTOL, "{names}: {train:e}, {params:e}");
            assert!(valid <= VALID_RTOL && acc <= ACC_TOL, "{names}: {valid:e}, {acc:e}");
        }
    }
}

#[test]
fn t10b_hand_written_batch_norm_matches_the_library_forward_and_backward() {
    let x = Tensor::<f64>::randn_with(&[5, 3, 4, 4], &mut seeded(1)).requires_grad_(true).unwrap();
    let gamma = Tensor::<f64>::randn_with(&[3], &mut seeded(2)).requires_grad_(true).unwrap();
    let beta = Tensor::<f64>::randn_with(&[3], &mut seeded(3)).requires_grad_(true).unwrap();
    let dy = Tensor::<f64>::randn_with(&[5, 3, 4, 4], &mut seeded(4));
    let (mean, var) = (Tensor::<f64>::randn_with(&[3], &mut seeded(5)), Tensor::<f64>::ones(&[3]));
    let (ours_mean, ours_var) = (mean.deep_clone().unwrap(), var.deep_clone().unwrap());
    let y = batch_norm(&x, Some(&mean), Some(&var), Some(&gamma), Some(&beta), true, 0.1, 1e-5).unwrap();
    y.mul(&dy).unwrap().sum().unwrap().backward().unwrap();
    let (ours, saved, (new_mean, new_var)) =
        batch_norm_train(&x.detach(), &gamma.detach(), &beta.detach(), (&ours_mean, &ours_var), 0.1, 1e-5).unwrap();
    let g = batch_norm_backward(&dy, &saved, &gamma.detach()).unwrap();
    assert!(max_abs_diff(&ours, &y.detach()) < 1e-13);
    assert!(max_abs_diff(&new_mean, &mean) < 1e-15 && max_abs_diff(&new_var, &var) < 1e-15);
    assert!(max_abs_diff(&g.input, &x.grad().unwrap()) < 1e-13);
    assert!(max_abs_diff(&g.weight, &gamma.grad().unwrap()) < 1e-13);
    assert!(max_abs_diff(&g.bias, &beta.grad().unwrap()) < 1e-13);
}

/// `--mnist DIR`'s images, 1×28×28, as random rows: a training part of 4 and a validation part of 2.
fn mnist_sized() -> Split<f64> {
    let rows = Tensor::<f32>::randn_with(&[6, 784], &mut seeded(8)).abs().unwrap();
    let labels = Tensor::new([3.0f32, 1.0, 4.0, 1.0, 5.0, 9.0]);
    images::<f64>(&Split::head(&rows, &labels, 4).unwrap()).unwrap()
}

#[test]
fn t10b_mnist_sized_images_take_the_128_3_3_linear_layer() {
    // The poolings take 28 to 14, 7 and, in floor mode, 3: the classifier's linear layer takes 128·3·3, and
    // the scratch model's last pooling leaves out row and column 7 as torch's does (no gradient reaches them).
    let data = mnist_sized();
    assert_eq!(data.x_train.shape(), &[4, 1, 28, 28]);
    let init = initial_parameters::<f64, _>(28, &mut seeded(0));
    assert_eq!(init[init.len() - 2].shape(), &[10, 128 * 3 * 3]);
    let mut scratch = ManualResNet::new(&init, 2).unwrap();
    let mut autograd = AutodiffResNet::new(&init, 2).unwrap();
    for _ in 0..2 {
        let a = scratch.train_step(&data.x_train, &data.y_train).unwrap();
        let b = autograd.train_step(&data.x_train, &data.y_train).unwrap();
        assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
    }
    // Evaluation reads the running means, which the convolutions' biases move apart by their rounding noise
    // (see VALID_RTOL): 2e-10 apart after these two steps (measured), so 1e-6 here.
    let (a, b) = (scratch.evaluate(&data.x_valid, &data.y_valid), autograd.evaluate(&data.x_valid, &data.y_valid));
    let ((la, aa), (lb, ab)) = (a.unwrap(), b.unwrap());
    println!("T10b MNIST-sized: validation losses {:.1e} apart", (la - lb).abs() / lb);
    assert!((la - lb).abs() <= 1e-6 * lb && aa == ab, "{la} {aa} vs {lb} {ab}");
    let runs: Vec<Run> = [("scratch", scratch.state()), ("autograd", autograd.state())]
        .into_iter()
        .map(|(name, state)| {
            let state = state.unwrap().iter().map(|(n, t)| (n.clone(), values(t))).collect();
            Run { name, history: History::default(), state }
        })
        .collect();
    let gap = state_gap(&runs[0], &runs[1], |n| !driven_by_rounding(n));
    assert!(gap <= F64_PARAM_RTOL, "parameters {gap:e} apart");
    // A model of the digits' size is refused these images by its linear layer.
    let mut small = AutodiffResNet::new(&initial_parameters::<f64, _>(8, &mut seeded(0)), 1).unwrap();
    let err = small.train_step(&data.x_train, &data.y_train).unwrap_err().to_string();
    assert!(err.contains("has 1152 features, but in_features is 128"), "{err}");
}

#[test]
fn t10b_hand_written_schedule_is_one_cycle_lr() {
    // The schedule of the full run: 8 epochs of 12 batches.
    let total = resnet::EPOCHS * 12;
    let mut adam = Adam::new([Tensor::<f64>::zeros(&[1]).requires_grad_(true).unwrap()], resnet::MAX_LR).unwrap();
    let mut scheduler = OneCycleLR::new(&mut adam, OneCycleConfig::new(resnet::MAX_LR, total)).unwrap();
    let ours = OneCycle::new(resnet::MAX_LR, total);
    for step in 0..total {
        assert_eq!(ours.at(step), (adam.lr(), adam.momentum()), "step {step}");
        scheduler.step(&mut adam).unwrap();
    }
}

// In f64 the three implementations differ only in the rounding of sums (GEMMs, col2im, BatchNorm's
// per-channel sums), a few ulps per step. Training losses and the parameters other than the convolutions'
// biases stay together as T10's did (measured over the full 8 epochs: training losses ≤ 2.1e-13, parameters
// ≤ 6e-12 of each tensor's scale), so they get T10's 1e-12 and 1e-10.
//
// The convolutions' biases do not: each is followed by BatchNorm, which subtracts the batch mean, so its
// gradient is 0 in exact arithmetic and each implementation's is its own rounding noise (~1e-14). Adam turns
// that noise into steps of lr·g/(|g| + eps), so the biases random-walk apart (to 2× their scale) and the
// running means, which track them, with them. In training mode the bias cancels and changes nothing; in
// evaluation mode the running mean replaces the batch mean, so validation losses move with the walk
// (measured 1.5e-3–7.2e-3 relative over 8 epochs, 5.7e-8 over the default suite's short run) while the
// validation accuracies stay within an image or two (measured: identical over 8 epochs; 2e-3, one image of
// the 256-image batch, after 2). Those losses get VALID_RTOL and the accuracies ACC_TOL; the biases and
// running means are only printed. The evaluation itself is checked to 1e-13 from one shared state ([`check_libtorch_load`]).
const F64_RTOL: f64 = 1e-12;
const F64_PARAM_RTOL: f64 = 1e-10;
const VALID_RTOL: f64 = 2e-2;
const ACC_TOL: f64 = 0.01;
// The default suite's f64 run: 2 epochs over the first 512 training images (4 batches of 128: a cycle of 8
// steps, up and back down, and both BatchNorm modes every epoch), about 3.5 s per model in the test profile
// on one core, within the suite's 30 s on two. The full 8-epoch run took 249 s for the three models there,
// so the libtorch suite runs 2 epochs over the first 6 batches (a 12-step cycle): 13 s measured, within its 90 s.
const F64_EPOCHS: usize = 2;
const F64_TRAIN_ROWS: usize = 4 * resnet::BATCH;

#[test]
fn t10b_digits_f64_scratch_matches_autograd_and_the_saved_model_reloads() {
    let data = digits::<f64>(Some(F64_TRAIN_ROWS));
    let init = initial_parameters::<f64, _>(8, &mut seeded(DIGITS_SEED));
    let steps = total_steps(&data, F64_EPOCHS);
    let mut scratch = ManualResNet::new(&init, steps).unwrap();
    let mut autograd = AutodiffResNet::new(&init, steps).unwrap();
    let runs =
        vec![train("scratch", &mut scratch, &data, F64_EPOCHS), train("autograd", &mut autograd, &data, F64_EPOCHS)];
    assert_runs_agree(&runs);
    check_reload(&mut autograd, &data);
}

/// Saves `model`'s network (parameters and buffers) to safetensors, loads the file into a fresh network from
/// other initial parameters, and checks the evaluation is the same to the bit.
fn check_reload<T: Element>(model: &mut AutodiffResNet<T>, data: &Split<T>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet.safetensors");
    save_parameters(model.network(), &path).unwrap();
    let mut fresh = AutodiffResNet::new(&initial_parameters::<T, _>(8, &mut seeded(99)), 1).unwrap();
    let mut valid = loaders(data).1;
    let before = evaluate(&mut fresh, &mut valid).unwrap();
    load_parameters(fresh.network(), &path).unwrap();
    let (trained, reloaded) = (evaluate(model, &mut valid).unwrap(), evaluate(&mut fresh, &mut valid).unwrap());
    println!("T10b reload: {trained:?} trained, {reloaded:?} reloaded, {before:?} before loading");
    assert_eq!(trained, reloaded);
    assert_ne!(before, reloaded);
}

// The tutorial's f32 gives no per-epoch parity over the run (see T10's tests: Adam makes f32's rounding of
// small gradients a relative error of the step), so f32 is checked by what the tutorial reports: the
// accuracy after the first epoch and at the end near shared/TUTORIALS.md's (from libtorch over 3 split seeds:
// 0.75–0.84 after epoch 1, 0.990 after 8), with the runs' final accuracies within F32_ACC of each other.
const F32_ACC: f64 = 0.03;

fn check_f32(runs: &[Run]) {
    for run in runs {
        let acc = &run.history.accuracy;
        let last = acc[resnet::EPOCHS - 1];
        assert!(acc[0] >= 0.5 && last >= 0.97, "{}: {acc:?}", run.name);
        let reference = runs[0].history.accuracy[resnet::EPOCHS - 1];
        assert!((last - reference).abs() <= F32_ACC, "{} vs {}: {acc:?}", run.name, runs[0].name);
    }
}

// The f32 run of the tutorial (8 full epochs) takes about 50 s in the test profile, beyond the default
// suite's budget: run it with `--ignored`. The example prints the same run in release mode.
#[test]
#[ignore = "8 full epochs, about 50 s in the test profile: run with --ignored"]
fn t10b_digits_f32_reaches_the_expected_accuracy() {
    let data = digits::<f32>(None);
    let init = initial_parameters::<f32, _>(8, &mut seeded(DIGITS_SEED));
    let steps = total_steps(&data, resnet::EPOCHS);
    let mut autograd = AutodiffResNet::new(&init, steps).unwrap();
    check_f32(&[train("autograd", &mut autograd, &data, resnet::EPOCHS)]);
    check_reload(&mut autograd, &data);
}

#[cfg(not(feature = "tch"))]
#[test]
#[ignore = "libtorch parity needs `--features tch` (scripts/test.sh sets libtorch up and runs it)"]
fn resnet_tutorial_matches_libtorch() {}

#[cfg(feature = "tch")]
mod libtorch {
    use super::*;
    use torchlet::nn::Module;

    const LIBTORCH_TRAIN_ROWS: usize = 6 * resnet::BATCH;
    use torchlet_tutorials::libtorch::TchResNet;

    #[test]
    fn t10b_digits_f64() {
        let data = digits::<f64>(Some(LIBTORCH_TRAIN_ROWS));
        let steps = total_steps(&data, F64_EPOCHS);
        let mut reference = TchResNet::<f64>::new(8, DIGITS_SEED as i64, steps).unwrap();
        let init = reference.parameters().unwrap();
        let mut scratch = ManualResNet::new(&init, steps).unwrap();
        let mut autograd = AutodiffResNet::new(&init, steps).unwrap();
        let runs = vec![
            train("scratch", &mut scratch, &data, F64_EPOCHS),
            train("autograd", &mut autograd, &data, F64_EPOCHS),
            train("libtorch", &mut reference, &data, F64_EPOCHS),
        ];
        assert_runs_agree(&runs);
        check_reload(&mut autograd, &data);
        check_libtorch_load(&mut autograd, &data, steps);
    }

    #[test]
    fn t10b_mnist_sized_f64() {
        // libtorch's MaxPool2d(2) takes the 7×7 to 3×3 in floor mode, as the scratch model's cropping does.
        // From torchlet's draw: libtorch's own gives this batch a loss of 5e-5, so small that the two
        // libraries' rounding of its log-sum-exp is 1e-12 of it.
        let data = mnist_sized();
        let theirs = TchResNet::<f64>::new(28, DIGITS_SEED as i64, 2).unwrap().parameters().unwrap();
        assert_eq!(theirs[theirs.len() - 2].shape(), &[10, 128 * 3 * 3]);
        let init = initial_parameters::<f64, _>(28, &mut seeded(0));
        let mut reference = TchResNet::from_parameters(&init, 2).unwrap();
        let mut scratch = ManualResNet::new(&init, 2).unwrap();
        let mut autograd = AutodiffResNet::new(&init, 2).unwrap();
        for _ in 0..2 {
            let theirs = reference.train_step(&data.x_train, &data.y_train).unwrap();
            let a = scratch.train_step(&data.x_train, &data.y_train).unwrap();
            let b = autograd.train_step(&data.x_train, &data.y_train).unwrap();
            assert!((a - theirs).abs() <= 1e-12 * theirs && (b - theirs).abs() <= 1e-12 * theirs, "{a}, {b}, {theirs}");
        }
        let theirs = reference.evaluate(&data.x_valid, &data.y_valid).unwrap();
        let ours = scratch.evaluate(&data.x_valid, &data.y_valid).unwrap();
        // As in the default suite's MNIST-sized test, the running means carry the biases' rounding noise.
        assert!((ours.0 - theirs.0).abs() <= 1e-6 * theirs.0 && ours.1 == theirs.1, "{ours:?} vs {theirs:?}");
    }

    /// The autograd model's checkpoint, buffers included, loaded into a fresh libtorch twin: the same
    /// evaluation-mode logits.
    pub(super) fn check_libtorch_load(model: &mut AutodiffResNet<f64>, data: &Split<f64>, steps: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("resnet.safetensors");
        save_parameters(model.network(), &path).unwrap();
        // Read back through a fresh torchlet network, which takes `num_batches_tracked` from its I64.
        let fresh = AutodiffResNet::new(&initial_parameters::<f64, _>(8, &mut seeded(99)), 1).unwrap();
        load_parameters(fresh.network(), &path).unwrap();
        let state: Vec<_> =
            fresh.network().named_parameters().into_iter().chain(fresh.network().named_buffers()).collect();
        let mut twin = TchResNet::<f64>::new(8, 99, steps).unwrap();
        twin.load_state(&state).unwrap();
        let (mut valid_ours, mut valid_theirs) = (loaders(data).1, loaders(data).1);
        let (ours, theirs) =
            (evaluate(model, &mut valid_ours).unwrap(), evaluate(&mut twin, &mut valid_theirs).unwrap());
        println!("T10b libtorch load: {ours:?} torchlet, {theirs:?} libtorch");
        assert_eq!(ours.1, theirs.1);
        assert!((ours.0 - theirs.0).abs() <= 1e-13 * ours.0);
    }

    // As the default suite's f32 test: 8 full epochs of the scratch model, beyond the suite's budget.
    #[test]
    #[ignore = "8 full epochs, about 50 s in the test profile: run with --ignored"]
    fn t10b_digits_f32() {
        let data = digits::<f32>(None);
        let steps = total_steps(&data, resnet::EPOCHS);
        let mut reference = TchResNet::<f32>::new(8, DIGITS_SEED as i64, steps).unwrap();
        let init = reference.parameters().unwrap();
        let mut scratch = ManualResNet::new(&init, steps).unwrap();
        let runs = vec![
            train("scratch", &mut scratch, &data, resnet::EPOCHS),
            train("libtorch", &mut reference, &data, resnet::EPOCHS),
        ];
        check_f32(&runs);
    }
}
