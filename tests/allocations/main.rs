//! Heap allocations per training step, counted by a global allocator that wraps the system's.
//!
//! After its first steps a training loop asks for the same buffers every step, so the CPU buffer cache
//! (`torchlet::cpu::memory_stats`) serves every tensor buffer from memory freed the step before: a steady
//! step takes no tensor buffer from the system allocator. What it still allocates are the small objects of
//! the tensor and autograd layers (a tensor's handle and its storage cell, one node per recorded op, the
//! backward's bookkeeping), counted here and printed per step.
//!
//! Every thread's allocations count, so this crate holds one test, which runs its workloads one after the
//! other: nothing else in the process allocates while a step is measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::nn::{CrossEntropyLoss, Linear, Module, ReLU, Sequential};
use torchlet::optim::{Adam, Optimizer, SGD};
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};

/// The system allocator, counting the allocations made through it.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
/// The sizes of the first allocations of a traced step.
static TRACE: [AtomicUsize; 512] = [const { AtomicUsize::new(0) }; 512];
static TRACING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn note(size: usize) {
    let i = ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size, Ordering::Relaxed);
    if TRACING.load(Ordering::Relaxed) {
        if let Some(slot) = TRACE.get(i.wrapping_sub(TRACE_START.load(Ordering::Relaxed))) {
            slot.store(size, Ordering::Relaxed);
        }
    }
}
static TRACE_START: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s contract; the
// counters are plain atomics that allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded from this function's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded from this function's contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded from this function's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from this function's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What one steady step allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PerStep {
    /// Every allocation from the system allocator (tensor buffers, handles, nodes, ...).
    allocations: usize,
    /// Their bytes.
    bytes: usize,
    /// Tensor buffers the CPU cache had to take from the system allocator.
    buffer_allocations: u64,
}

/// Runs `step` `WARMUP` times, then measures `MEASURED` steps one by one; every measured step must
/// allocate the same (a loop in its steady state), and that is returned.
fn per_step(name: &str, mut step: impl FnMut() -> Result<f64>) -> Result<PerStep> {
    const WARMUP: usize = 3;
    const MEASURED: usize = 5;
    for _ in 0..WARMUP {
        step()?;
    }
    if std::env::var("ALLOC_TRACE").is_ok() {
        TRACE_START.store(ALLOCATIONS.load(Ordering::SeqCst), Ordering::SeqCst);
        TRACING.store(true, Ordering::SeqCst);
        step()?;
        TRACING.store(false, Ordering::SeqCst);
        let n = ALLOCATIONS.load(Ordering::SeqCst) - TRACE_START.load(Ordering::SeqCst);
        let sizes: Vec<usize> = TRACE.iter().take(n).map(|s| s.load(Ordering::SeqCst)).collect();
        eprintln!("{name}: {n} allocations, sizes {sizes:?}");
    }
    let mut seen = Vec::new();
    for _ in 0..MEASURED {
        let buffers = torchlet::cpu::memory_stats().system_allocations;
        let (count, bytes) = (ALLOCATIONS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
        let loss = step()?;
        let measured = PerStep {
            allocations: ALLOCATIONS.load(Ordering::SeqCst) - count,
            bytes: BYTES.load(Ordering::SeqCst) - bytes,
            buffer_allocations: torchlet::cpu::memory_stats().system_allocations - buffers,
        };
        assert!(loss.is_finite(), "{name}: the loss is {loss}");
        seen.push(measured);
    }
    eprintln!("{name}: per steady step {:?}", seen[0]);
    assert!(seen.iter().all(|s| *s == seen[0]), "{name}: the steps allocate differently: {seen:?}");
    Ok(seen[0])
}

/// `loss = criterion(model(x), labels); opt.zero_grad(); loss.backward(); opt.step(); loss.item()`, as
/// `benches/small_models.rs` times it.
fn classifier_step(
    model: &Sequential<f32>,
    optimizer: &mut impl Optimizer<f32>,
    x: &Tensor<f32>,
    labels: &[usize],
) -> Result<f64> {
    let loss = CrossEntropyLoss::new().forward(&model.forward(x)?, labels)?;
    optimizer.zero_grad();
    loss.backward()?;
    optimizer.step()?;
    Ok(f64::from(loss.item()?))
}

/// `Linear(inputs, hidden)`, ReLU, `Linear(hidden, 10)`, a batch of 128 N(0, 1) rows and labels.
fn classifier(inputs: usize, hidden: usize, seed: u64) -> (Sequential<f32>, Tensor<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let model = Sequential::new()
        .add(Linear::with_rng(inputs, hidden, true, &mut rng))
        .add(ReLU)
        .add(Linear::with_rng(hidden, 10, true, &mut rng));
    let x = Tensor::randn_with(&[128, inputs], &mut rng);
    let labels = (0..128).map(|_| rng.random_range(0..10)).collect();
    (model, x, labels)
}

/// The digits MLP (64 → 32 → 10, SGD), the MLP 784 → 128 → 10 with Adam, and T5's two steps: after the
/// warm-up no step takes a tensor buffer from the system allocator.
#[test]
fn steady_training_steps_take_no_tensor_buffer_from_the_system() -> Result<()> {
    let (model, x, labels) = classifier(64, 32, 7);
    let mut sgd = SGD::new(model.parameters(), 0.5)?;
    let digits = per_step("digits MLP 64→32→10, SGD", || classifier_step(&model, &mut sgd, &x, &labels))?;

    let (model, x, labels) = classifier(784, 128, 2024);
    let mut adam = Adam::new(model.parameters(), 1e-3)?;
    let mlp784 = per_step("MLP 784→128→10, Adam", || classifier_step(&model, &mut adam, &x, &labels))?;

    let x = Tensor::<f32>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let y = Tensor::new([[50.0], [110.0], [170.0]]);
    let mut builtins = AutodiffLinear::new(Linear::from_parameters(&Tensor::zeros(&[1, 2]), None)?, 1e-4)?;
    let t5_builtins = per_step("T5 step, nn.Linear + MSELoss + SGD", || Ok(builtins.train_step(&x, &y)?.into()))?;
    let mut tensor = TensorLinear::new(Tensor::zeros(&[1, 2]), None, 1e-4)?;
    let t5_tensor = per_step("T5 step, tensor autograd", || Ok(tensor.train_step(&x, &y)?.into()))?;

    for (name, step) in
        [("digits", digits), ("MLP 784", mlp784), ("T5 built-ins", t5_builtins), ("T5 tensor", t5_tensor)]
    {
        assert_eq!(step.buffer_allocations, 0, "{name}: tensor buffers taken from the system allocator per step");
    }
    Ok(())
}
