//! Heap allocations per training step, counted by a global allocator that wraps the system's.
//!
//! After its first steps a training loop asks for the same buffers every step, so the CPU buffer cache
//! (`torchlet::cpu::memory_stats`) serves every tensor buffer from memory freed the step before: a steady
//! step takes no tensor buffer from the system allocator. What it still allocates are the small objects of
//! the tensor and autograd layers (a tensor's handle and its storage cell, one node per recorded op, the
//! backward's bookkeeping), counted here and printed per step.
//!
//! Allocations are attributed to the thread that runs the step or to another thread (matrixmultiply's and
//! rayon's workers). The stepping thread must allocate exactly the same every steady step. The workers
//! allocate nothing in a steady step, except once in their lives: the first time a matrixmultiply worker
//! (a `thread-tree` thread) has to park on its job channel, `crossbeam-channel` creates that thread's
//! waiting context (2 allocations). When that happens depends on the machine's load, so the other
//! threads' allocations are checked against that one-time bound over the whole test instead of per step.
//!
//! Every thread's allocations count, so this crate is a plain program (`harness = false`) that runs its
//! workloads one after the other: no test harness thread allocates beside a measured step.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use torchlet::nn::{CrossEntropyLoss, Linear, Module, ReLU, Sequential};
use torchlet::optim::{Adam, Optimizer, SGD};
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};

/// The system allocator, counting the allocations made through it.
struct Counting;

/// Allocations and bytes asked for by the thread running the measured steps.
static STEPPING: Counter = Counter::new();
/// Allocations and bytes asked for by every other thread.
static OTHERS: Counter = Counter::new();

struct Counter {
    allocations: AtomicUsize,
    bytes: AtomicUsize,
}

impl Counter {
    const fn new() -> Self {
        Self { allocations: AtomicUsize::new(0), bytes: AtomicUsize::new(0) }
    }

    fn read(&self) -> (usize, usize) {
        (self.allocations.load(Ordering::SeqCst), self.bytes.load(Ordering::SeqCst))
    }
}

thread_local! {
    /// Set on the thread that runs the steps. A `const`-initialised `Cell` without a destructor: reading
    /// it never allocates, so the allocator may consult it.
    static IS_STEPPING_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn note(size: usize) {
    let stepping = IS_STEPPING_THREAD.try_with(Cell::get).unwrap_or(false);
    let counter = if stepping { &STEPPING } else { &OTHERS };
    counter.allocations.fetch_add(1, Ordering::Relaxed);
    counter.bytes.fetch_add(size, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s contract; the
// counters are plain atomics and a non-allocating thread-local flag.
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

/// matrixmultiply runs at most 3 worker threads (a `thread-tree` of level 2).
const MATRIXMULTIPLY_WORKERS: usize = 3;
/// What `crossbeam-channel` allocates once per thread the first time that thread blocks: the thread's
/// waiting context (an `Arc`) and the channel's waker entry list growing to hold it.
const FIRST_PARK_ALLOCATIONS: usize = 2;

/// What one steady step allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PerStep {
    /// Allocations from the system allocator by the stepping thread (tensor buffers, handles, nodes, ...).
    allocations: usize,
    /// Their bytes.
    bytes: usize,
    /// Allocations by other threads.
    other_threads: usize,
    /// Tensor buffers the CPU cache had to take from the system allocator.
    buffer_allocations: u64,
}

/// Runs `step` `WARMUP` times, then measures `MEASURED` steps one by one, which are returned. The stepping
/// thread must allocate the same in every measured step (a loop in its steady state).
fn per_step(name: &str, mut step: impl FnMut() -> Result<f64>) -> Result<Vec<PerStep>> {
    const WARMUP: usize = 3;
    const MEASURED: usize = 5;
    IS_STEPPING_THREAD.set(true);
    for _ in 0..WARMUP {
        step()?;
    }
    let mut seen = Vec::new();
    for _ in 0..MEASURED {
        let buffers = torchlet::cpu::memory_stats().system_allocations;
        let (count, bytes) = STEPPING.read();
        let (others, _) = OTHERS.read();
        let loss = step()?;
        let (count_after, bytes_after) = STEPPING.read();
        let measured = PerStep {
            allocations: count_after - count,
            bytes: bytes_after - bytes,
            other_threads: OTHERS.read().0 - others,
            buffer_allocations: torchlet::cpu::memory_stats().system_allocations - buffers,
        };
        assert!(loss.is_finite(), "{name}: the loss is {loss}");
        seen.push(measured);
    }
    IS_STEPPING_THREAD.set(false);
    eprintln!("{name}: per steady step {:?}", seen[0]);
    let own = |s: &PerStep| (s.allocations, s.bytes);
    assert!(seen.iter().all(|s| own(s) == own(&seen[0])), "{name}: the steps allocate differently: {seen:?}");
    Ok(seen)
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
fn main() -> Result<()> {
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

    let workloads = [("digits", digits), ("MLP 784", mlp784), ("T5 built-ins", t5_builtins), ("T5 tensor", t5_tensor)];
    for (name, steps) in &workloads {
        for step in steps {
            assert_eq!(step.buffer_allocations, 0, "{name}: tensor buffers taken from the system allocator per step");
        }
    }
    let other_threads: usize = workloads.iter().flat_map(|(_, steps)| steps).map(|s| s.other_threads).sum();
    let bound = MATRIXMULTIPLY_WORKERS * FIRST_PARK_ALLOCATIONS;
    eprintln!("worker threads: {other_threads} allocations over all measured steps (one-time bound {bound})");
    assert!(
        other_threads <= bound,
        "worker threads allocated {other_threads} times over all measured steps, more than their one-time \
         {bound}: {workloads:?}"
    );
    eprintln!("steady training steps take no tensor buffer from the system allocator: ok");
    Ok(())
}
