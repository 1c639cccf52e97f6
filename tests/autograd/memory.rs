//! Flat memory over long runs: the T5 tutorial's million-step loop, here 300k steps of each autograd way,
//! and a shuffled DataLoader over many epochs, must not grow resident memory. Every step builds a graph,
//! runs backward and drops it; a node kept alive by a cycle, a saved tensor outliving its step, or a
//! per-epoch buffer that is never freed would show up as growth of at least a few bytes a step, i.e.
//! megabytes over the run, well above the 1 MiB allowed for allocator noise.
//!
//! Resident memory is per process, so the tests take turns (a lock), and each measures after a warm-up
//! that lets the allocator reach its steady state.

use crate::common;

use std::sync::Mutex;
use torchlet::data::{DataLoader, TensorDataset};
use torchlet::nn::Linear;
use torchlet::Tensor;
use torchlet_tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};

/// One test measures at a time: another test's allocations would count against it.
static MEASURING: Mutex<()> = Mutex::new(());

const ALLOWED_GROWTH: usize = 1 << 20;

/// Runs `step` `warmup` times, then `steps` times, and asserts that resident memory grew by less than
/// [`ALLOWED_GROWTH`] over the second run.
fn assert_flat(what: &str, warmup: usize, steps: usize, mut step: impl FnMut()) {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    (0..warmup).for_each(|_| step());
    let before = common::resident_bytes();
    (0..steps).for_each(|_| step());
    let after = common::resident_bytes();
    let grown = after.saturating_sub(before);
    eprintln!("{what}: resident {before} → {after} bytes over {steps} steps");
    assert!(grown < ALLOWED_GROWTH, "{what}: resident memory grew by {grown} bytes over {steps} steps");
}

/// T5's data: X = [[1, 2], [3, 4], [5, 6]], y = X [10, 20]ᵀ, in f32 as ways 2 and 3.
fn t5_data() -> (Tensor<f32>, Tensor<f32>) {
    (Tensor::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), Tensor::new([[50.0], [110.0], [170.0]]))
}

const T5_STEPS: usize = 300_000;

#[test]
fn t5_way3_nn_linear_and_sgd_runs_in_flat_memory() {
    let (x, y) = t5_data();
    let linear = Linear::from_parameters(&Tensor::zeros(&[1, 2]), None).unwrap();
    let mut model = AutodiffLinear::new(linear, 1e-4).unwrap();
    assert_flat("AutodiffLinear (nn.Linear + MSELoss + SGD)", 20_000, T5_STEPS, || {
        model.train_step(&x, &y).unwrap();
    });
    // The run trained: the model is close to w = [10, 20] (not a loop that did nothing).
    let w = model.linear().weight().to_vec().unwrap();
    assert!((w[0] - 10.0).abs() < 0.05 && (w[1] - 20.0).abs() < 0.05, "{w:?}");
}

#[test]
fn t5_way2_tensor_autograd_runs_in_flat_memory() {
    let (x, y) = t5_data();
    let mut model = TensorLinear::new(Tensor::zeros(&[1, 2]), None, 1e-4).unwrap();
    assert_flat("TensorLinear (leaves, backward, no_grad update)", 20_000, T5_STEPS, || {
        model.train_step(&x, &y).unwrap();
    });
    let w = model.weight().to_vec().unwrap();
    assert!((w[0] - 10.0).abs() < 0.05 && (w[1] - 20.0).abs() < 0.05, "{w:?}");
}

#[test]
fn shuffled_data_loader_epochs_run_in_flat_memory() {
    // 64 samples in shuffled batches of 8: each epoch draws a permutation and gathers 8 batches.
    let n = 64;
    let x = Tensor::<f32>::from_vec((0..n * 3).map(|i| (i % 7) as f32 - 3.0).collect(), &[n, 3]).unwrap();
    let y = x.matmul(&Tensor::new([[1.0, 2.0], [-1.0, 0.5], [0.25, 3.0]])).unwrap();
    let mut loader = DataLoader::new(TensorDataset::new(vec![x, y]).unwrap(), 8).unwrap().shuffle(true).seed(7);
    let linear = Linear::with_rng(3, 2, true, &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0));
    let mut model = AutodiffLinear::new(linear, 1e-2).unwrap();
    let mut last = f32::NAN;
    assert_flat("shuffled DataLoader epochs (64 samples, batches of 8)", 1_000, 20_000, || {
        for batch in loader.iter_pairs().unwrap() {
            let (x, y) = batch.unwrap();
            last = model.train_step(&x, &y).unwrap();
        }
    });
    assert!(last < 1e-6, "the model fitted the exact linear data: last batch loss {last}");
}

#[test]
fn gradient_penalty_steps_with_create_graph_run_in_flat_memory() {
    // Each step differentiates through a gradient: the saved outputs joined to their nodes again must be
    // freed with the step's graphs, not kept by a cycle.
    use torchlet::autograd::{grad_with, GradOptions};
    let w = Tensor::<f32>::from_vec((0..32).map(|i| (i as f32 - 16.0) / 20.0).collect(), &[4, 8])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let x = Tensor::<f32>::from_vec((0..24).map(|i| ((i * 5) % 11) as f32 / 10.0 - 0.5).collect(), &[3, 8]).unwrap();
    let mut penalty = f32::NAN;
    assert_flat("gradient penalty (create_graph, then backward through the gradient)", 2_000, 30_000, || {
        let y = x.linear(&w, None).unwrap().tanh().unwrap().sigmoid().unwrap().sum().unwrap();
        let g = grad_with(&[&y], &[&w], &GradOptions::new().create_graph(true)).unwrap().remove(0).unwrap();
        let p = g.square().unwrap().sum().unwrap();
        penalty = p.item().unwrap();
        p.backward().unwrap();
        torchlet::no_grad(|| w.sub_(&w.grad().unwrap().mul_scalar(0.01)?).map(|_| ())).unwrap();
        w.zero_grad();
    });
    assert!(penalty.is_finite() && penalty > 0.0, "{penalty}");
}
