//! Every op and its backward on a CUDA device, checked against the same computation on the CPU, in f32 and f64.
//!
//! A test harness of its own (libtest-mimic), so that whether the GPU tests run is decided when they run:
//! `cargo test --features cuda` on a machine with a usable GPU runs them; elsewhere (no GPU, no driver, or a
//! build without the `cuda` feature) each is reported as ignored, and the reason is printed. To make a missing
//! GPU a failure instead — on a machine that should have one — set `TORCHLET_REQUIRE_GPU=1` or pass
//! `--include-ignored`. The `cuda:7` test runs everywhere; the NVRTC compile of every kernel
//! (`kernels_compile`) runs wherever the `cuda` feature is on, GPU or not.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::process::ExitCode;
use torchlet::{no_grad, Device, Element, Error, Result, Tensor};

/// `Device::Cuda(0)` when a GPU is usable, else why not.
fn usable_gpu() -> std::result::Result<Device, String> {
    if torchlet::cuda::is_available() {
        return Ok(Device::Cuda(0));
    }
    Err(match Tensor::<f32>::full_on(&[1], 0.0, Device::Cuda(0)) {
        Err(e) => e.to_string(),
        Ok(_) => "torchlet::cuda::is_available() is false".to_string(),
    })
}

/// A test that needs the GPU: run on it, or ignored with `why` when there is none (a failure when
/// `required`).
fn gpu_trial(name: &str, test: fn(Device), gpu: &std::result::Result<Device, String>, required: bool) -> Trial {
    let gpu = gpu.clone();
    let name_owned = name.to_string();
    Trial::ignorable_test(name, move || match gpu {
        Ok(dev) => {
            test(dev);
            Ok(Completion::Completed)
        }
        Err(why) if required => Err(Failed::from(format!("{name_owned} needs a usable CUDA GPU: {why}"))),
        Err(why) => Ok(Completion::ignored_with(format!("no usable CUDA GPU: {why}"))),
    })
}

/// `(name, test)` pairs, named as libtest names them (`module::function`).
macro_rules! gpu_tests {
    ($($test:path),* $(,)?) => {
        [$((stringify!($test), $test as fn(Device))),*]
    };
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let gpu = usable_gpu();
    let required =
        std::env::var_os("TORCHLET_REQUIRE_GPU").is_some_and(|v| v != "0") || args.include_ignored || args.ignored;
    if let Err(why) = &gpu {
        let consequence = if required { "they FAIL (asked to run)" } else { "they are reported as ignored" };
        eprintln!("NOTE: no usable CUDA GPU ({why}): the GPU tests do not run here; {consequence}.");
    }
    let tests = gpu_tests![
        cuda_vs_cpu_elementwise_ops_and_backward,
        cuda_vs_cpu_reductions_views_index_select_and_backward,
        cuda_vs_cpu_matmul_and_backward,
        cuda_vs_cpu_inplace_ops_on_views,
        cuda_vs_cpu_training_loop,
        cuda_round_trips_constructors_and_accumulation,
        cuda_mixed_device_ops,
        cuda_ops_with_a_cpu_scalar_as_torch,
        mixed_devices_are_refused_and_leave_the_operands_alone,
        conv::cuda_vs_cpu_convolutions_and_poolings,
        higher_order::cuda_vs_cpu_second_derivatives,
        more_ops::cuda_vs_cpu_activations_and_backward,
        more_ops::cuda_vs_cpu_softmax_and_statistics_and_backward,
        more_ops::cuda_vs_cpu_selections_joins_and_backward,
        more_ops::cuda_vs_cpu_argmax_one_hot_arange,
        more_ops::cuda_to_is_differentiable_both_ways,
        nn::cuda_vs_cpu_linear_and_losses_and_backward,
        nn::cuda_binary_cross_entropy_refuses_what_the_cpu_refuses,
        nn::cuda_vs_cpu_optimizer_steps,
        nn::cuda_dataloader_batches_and_dropout,
        nn::cuda_vs_cpu_regression_tutorial_loops,
        nn::cuda_vs_cpu_normalisation_and_embedding,
    ];
    let mut trials: Vec<Trial> = tests.iter().map(|&(name, test)| gpu_trial(name, test, &gpu, required)).collect();
    trials.extend(kernels_compile::trials());
    trials.push(Trial::test("cuda7_without_such_a_gpu_is_an_error_not_a_panic", || {
        cuda7_without_such_a_gpu_is_an_error_not_a_panic();
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit_code()
}

/// Tolerance relative to max(1, |cpu value|): CUDA's exp/log/pow and summation order differ by a few ulps.
fn tol<T: Element>() -> f64 {
    if T::DTYPE == torchlet::DType::F32 {
        2e-5
    } else {
        1e-12
    }
}

fn assert_close<T: Element>(what: &str, cpu: &Tensor<T>, gpu: &Tensor<T>, tol: f64) {
    assert_eq!(cpu.shape(), gpu.shape(), "{what}: shapes differ");
    assert!(gpu.device().is_cuda(), "{what}: the GPU result is on {}", gpu.device());
    let (a, b) = (cpu.to_vec().unwrap(), gpu.to_vec().unwrap());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let (x, y) = (x.to_f64().unwrap(), y.to_f64().unwrap());
        let same = (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol * x.abs().max(1.0);
        assert!(same, "{what} ({}): element {i} is {y} on the GPU but {x} on the CPU", T::DTYPE);
    }
}

type OpFn<T> = Box<dyn Fn(&[Tensor<T>]) -> Result<Tensor<T>>>;

/// One op under test: input shapes, whether inputs must be positive (sqrt, log, ...), and the op.
struct Case<T: Element> {
    name: String,
    shapes: Vec<Vec<usize>>,
    positive: bool,
    /// Extra tolerance factor (long reductions in f32).
    slack: f64,
    f: OpFn<T>,
}

fn case<T: Element>(
    name: &str,
    shapes: &[&[usize]],
    f: impl Fn(&[Tensor<T>]) -> Result<Tensor<T>> + 'static,
) -> Case<T> {
    Case {
        name: name.into(),
        shapes: shapes.iter().map(|s| s.to_vec()).collect(),
        positive: false,
        slack: 1.0,
        f: Box::new(f),
    }
}

fn positive<T: Element>(mut c: Case<T>) -> Case<T> {
    c.positive = true;
    c
}

/// `c` with its tolerance widened by `factor` (long reductions, whose summation order differs by device).
fn slack<T: Element>(mut c: Case<T>, factor: f64) -> Case<T> {
    c.slack = factor;
    c
}

fn c<T: Element>(v: f64) -> T {
    T::from_f64_lossy(v)
}

/// Runs each case on CPU and GPU inputs holding the same values, compares the outputs, then backpropagates
/// the same random upstream gradient through both and compares every input's gradient.
fn run_cases<T: Element>(dev: Device, cases: Vec<Case<T>>) {
    let mut rng = StdRng::seed_from_u64(7);
    for case in cases {
        let (lo, hi) = if case.positive { (0.5, 2.0) } else { (-2.0, 2.0) };
        let cpu: Vec<Tensor<T>> = case
            .shapes
            .iter()
            .map(|s| Tensor::rand_uniform_with(s, c(lo), c(hi), &mut rng).requires_grad_(true).unwrap())
            .collect();
        let gpu: Vec<Tensor<T>> =
            cpu.iter().map(|t| t.detach().to(dev).unwrap().requires_grad_(true).unwrap()).collect();
        let what = &case.name;
        let out_cpu = (case.f)(&cpu).unwrap_or_else(|e| panic!("{what} on the CPU: {e}"));
        let out_gpu = (case.f)(&gpu).unwrap_or_else(|e| panic!("{what} on {dev}: {e}"));
        assert_eq!(out_gpu.device(), dev, "{what}: result device");
        let tol = tol::<T>() * case.slack;
        assert_close(&format!("{what} forward"), &out_cpu, &out_gpu, tol);

        let upstream = Tensor::<T>::rand_uniform_with(out_cpu.shape(), c(-1.0), c(1.0), &mut rng);
        out_cpu.backward_with(&upstream).unwrap_or_else(|e| panic!("{what} backward on the CPU: {e}"));
        out_gpu.backward_with(&upstream.to(dev).unwrap()).unwrap_or_else(|e| panic!("{what} backward on {dev}: {e}"));
        for (i, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
            match (a.grad(), b.grad()) {
                (Some(ga), Some(gb)) => assert_close(&format!("{what} grad of input {i}"), &ga, &gb, tol),
                (None, None) => {}
                (ga, gb) => panic!(
                    "{what}: input {i} has a gradient on one device only ({ga:?} vs {gb:?})",
                    ga = ga.is_some(),
                    gb = gb.is_some()
                ),
            }
        }
    }
}

fn elementwise_cases<T: Element>() -> Vec<Case<T>> {
    let mut cases = vec![
        case("neg", &[&[3, 4]], |x| x[0].neg()),
        case("square", &[&[3, 4]], |x| x[0].square()),
        case("abs (sign in backward)", &[&[5, 7]], |x| x[0].abs()),
        case("exp", &[&[2, 3, 4]], |x| x[0].exp()),
        positive(case("sqrt", &[&[3, 4]], |x| x[0].sqrt())),
        positive(case("log", &[&[3, 4]], |x| x[0].log())),
        positive(case("powf 2.5", &[&[3, 4]], |x| x[0].powf(c(2.5)))),
        case("powi 3", &[&[3, 4]], |x| x[0].powi(3)),
        case("add_scalar", &[&[6]], |x| x[0].add_scalar(c(1.5))),
        case("sub_scalar", &[&[6]], |x| x[0].sub_scalar(c(1.5))),
        case("rsub_scalar", &[&[6]], |x| x[0].rsub_scalar(c(1.5))),
        case("mul_scalar", &[&[6]], |x| x[0].mul_scalar(c(-3.0))),
        case("div_scalar", &[&[6]], |x| x[0].div_scalar(c(4.0))),
        positive(case("rdiv_scalar", &[&[6]], |x| x[0].rdiv_scalar(c(2.0)))),
        case("0-D scalar", &[&[]], |x| x[0].square()?.mul_scalar(c(3.0))),
        // Strided inputs: a transposed view and a narrowed one.
        case("exp of a transposed view", &[&[4, 6]], |x| x[0].t()?.exp()),
        case("square of a narrowed view", &[&[5, 6]], |x| x[0].narrow(1, 1, 3)?.square()),
        // Broadcasting, with the backward summing back to each operand's shape.
        case("add [3,1] + [4]", &[&[3, 1], &[4]], |x| x[0].add(&x[1])),
        case("sub [2,3,4] - [3,1]", &[&[2, 3, 4], &[3, 1]], |x| x[0].sub(&x[1])),
        case("mul [5] * []", &[&[5], &[]], |x| x[0].mul(&x[1])),
        case("mul [4,1,3] * [1,5,1]", &[&[4, 1, 3], &[1, 5, 1]], |x| x[0].mul(&x[1])),
        case("add of transposed + row", &[&[4, 3], &[4]], |x| x[0].t()?.add(&x[1].unsqueeze(0)?.t()?.t()?)),
        case("x * x (one storage twice)", &[&[3, 3]], |x| x[0].mul(&x[0])),
        case("operators", &[&[2, 3], &[3]], |x| Ok(-(&(&(&x[0] * &x[1]) - &x[1]) * c::<T>(2.0)))),
    ];
    let mut div = case("div [2,3] / [2,1]", &[&[2, 3], &[2, 1]], |x| x[0].div(&x[1]));
    div.positive = true;
    cases.push(div);
    // A rank-6 view that merges to a few dims, and a wide broadcast.
    cases.push(case("rank-6 broadcast add", &[&[2, 1, 3, 1, 2, 2], &[3, 4, 2, 1]], |x| x[0].add(&x[1])));
    cases
}

fn reduction_and_view_cases<T: Element>() -> Vec<Case<T>> {
    let long_sum_slack = if T::DTYPE == torchlet::DType::F32 { 10.0 } else { 100.0 };
    let mut cases = vec![
        case("sum", &[&[3, 4, 5]], |x| x[0].sum()),
        case("sum_dim 0", &[&[3, 4, 5]], |x| x[0].sum_dim(0, false)),
        case("sum_dim 1 keepdim", &[&[3, 4, 5]], |x| x[0].sum_dim(1, true)),
        case("sum_dim -1", &[&[3, 4, 5]], |x| x[0].sum_dim(-1, false)),
        case("sum_dim of a transposed view", &[&[6, 5]], |x| x[0].t()?.sum_dim(1, false)),
        case("mean", &[&[7, 3]], |x| x[0].mean()),
        case("mean_dim 0 keepdim", &[&[7, 3]], |x| x[0].mean_dim(0, true)),
        case("narrow", &[&[5, 4]], |x| x[0].narrow(0, 1, 3)),
        case("narrow dim 1 then square", &[&[5, 4]], |x| x[0].narrow(1, 2, 2)?.square()),
        case("expand", &[&[3, 1]], |x| x[0].expand(&[3, 4])),
        case("reshape of a transposed view (copies)", &[&[3, 4]], |x| x[0].t()?.reshape(&[2, 6])),
        case("squeeze / unsqueeze", &[&[3, 1, 2]], |x| x[0].squeeze()?.unsqueeze(0)?.mul_scalar(c(2.0))),
        case("contiguous of a transposed view", &[&[3, 4]], |x| x[0].t()?.contiguous()),
        case("deep_clone", &[&[3, 4]], |x| x[0].deep_clone()),
        case("index_select dim 0 with repeats", &[&[5, 3]], |x| x[0].index_select(0, &[4, 0, 4, 2, 4])),
        case("index_select dim 1", &[&[3, 5]], |x| x[0].index_select(1, &[1, 1, 3])),
        case("index_select of a transposed view", &[&[5, 4]], |x| x[0].t()?.index_select(0, &[3, 0])),
        case("index_select none", &[&[5, 3]], |x| x[0].index_select(0, &[])),
        case("empty [0, 3] sum_dim", &[&[0, 3]], |x| x[0].sum_dim(0, false)),
    ];
    // Long reductions: one thread per output, one block per output, and chunked blocks with a second pass.
    let mut long = vec![
        case("sum of 300k", &[&[300_000]], |x| x[0].sum()),
        case("sum_dim 0 of [1000, 70]", &[&[1000, 70]], |x| x[0].sum_dim(0, false)),
        case("sum_dim 1 of [70, 1000]", &[&[70, 1000]], |x| x[0].sum_dim(1, false)),
        case("sum_dim 0 of [70000, 3]", &[&[70_000, 3]], |x| x[0].sum_dim(0, true)),
        case("mean of a transposed [500, 300]", &[&[500, 300]], |x| x[0].t()?.mean()),
    ];
    for c in &mut long {
        c.positive = true;
        c.slack = long_sum_slack;
    }
    cases.extend(long);
    cases
}

fn matmul_cases<T: Element>() -> Vec<Case<T>> {
    vec![
        case("matmul 1-D . 1-D", &[&[5], &[5]], |x| x[0].matmul(&x[1])),
        case("matmul 2-D . 1-D", &[&[3, 5], &[5]], |x| x[0].matmul(&x[1])),
        case("matmul 1-D . 2-D", &[&[5], &[5, 4]], |x| x[0].matmul(&x[1])),
        case("matmul 2-D . 2-D", &[&[7, 5], &[5, 3]], |x| x[0].matmul(&x[1])),
        case("matmul A^T . B", &[&[5, 7], &[5, 3]], |x| x[0].t()?.matmul(&x[1])),
        case("matmul A . B^T", &[&[7, 5], &[3, 5]], |x| x[0].matmul(&x[1].t()?)),
        case("matmul A^T . B^T", &[&[5, 7], &[3, 5]], |x| x[0].t()?.matmul(&x[1].t()?)),
        case("matmul of column blocks (ld > cols)", &[&[6, 9], &[9, 8]], |x| {
            x[0].narrow(1, 2, 4)?.matmul(&x[1].narrow(0, 3, 4)?.narrow(1, 1, 5)?)
        }),
        case("matmul of an expanded operand (copied first)", &[&[1, 5], &[5, 3]], |x| {
            x[0].expand(&[4, 5])?.matmul(&x[1])
        }),
        case("x . x^T (one storage twice)", &[&[4, 6]], |x| x[0].matmul(&x[0].t()?)),
        case("linear layer x W^T + b", &[&[8, 3], &[2, 3], &[2]], |x| x[0].matmul(&x[1].t()?)?.add(&x[2])),
        case("larger matmul", &[&[64, 130], &[130, 33]], |x| x[0].matmul(&x[1])),
    ]
}

pub(crate) fn cuda_vs_cpu_elementwise_ops_and_backward(dev: Device) {
    run_cases::<f32>(dev, elementwise_cases());
    run_cases::<f64>(dev, elementwise_cases());
}

pub(crate) fn cuda_vs_cpu_reductions_views_index_select_and_backward(dev: Device) {
    run_cases::<f32>(dev, reduction_and_view_cases());
    run_cases::<f64>(dev, reduction_and_view_cases());
}

pub(crate) fn cuda_vs_cpu_matmul_and_backward(dev: Device) {
    run_cases::<f32>(dev, matmul_cases());
    run_cases::<f64>(dev, matmul_cases());
}

/// The same in-place sequence on both devices, into strided views, with broadcast sources.
fn inplace_sequence<T: Element>(dev: Device) {
    let mut rng = StdRng::seed_from_u64(11);
    let base = Tensor::<T>::rand_uniform_with(&[4, 6], c(1.0), c(2.0), &mut rng);
    let row = Tensor::<T>::rand_uniform_with(&[3], c(1.0), c(2.0), &mut rng);
    let block = Tensor::<T>::rand_uniform_with(&[3, 4], c(1.0), c(2.0), &mut rng);
    let run = |device: Device| -> Tensor<T> {
        let w = base.to(device).unwrap().deep_clone().unwrap();
        let (row, block) = (row.to(device).unwrap(), block.to(device).unwrap());
        let window = w.narrow(1, 1, 3).unwrap(); // [4, 3], strided
        window.add_(&row).unwrap();
        window.mul_(&row).unwrap();
        window.sub_(&row.mul_scalar(c(0.5)).unwrap()).unwrap();
        window.div_(&row).unwrap();
        let wt = w.t().unwrap(); // [6, 4], transposed
        wt.narrow(0, 2, 3).unwrap().copy_(&block).unwrap();
        wt.mul_scalar_(c(3.0)).unwrap();
        wt.add_scalar_(c(-1.0)).unwrap();
        w.narrow(0, 3, 1).unwrap().fill_(c(9.0)).unwrap();
        w.narrow(0, 0, 1).unwrap().narrow(1, 4, 2).unwrap().zero_().unwrap();
        w
    };
    let (cpu, gpu) = (run(Device::Cpu), run(dev));
    assert_close("in-place sequence", &cpu, &gpu, tol::<T>());
    // An in-place write through a broadcast view would race on the GPU: it is refused, except a fill,
    // which writes each location once.
    let base = Tensor::<T>::full_on(&[3], c(1.0), dev).unwrap();
    let shared = base.expand(&[2, 3]).unwrap();
    let err = shared.add_scalar_(c(1.0)).unwrap_err().to_string();
    assert!(err.contains("more than one element"), "{err}");
    shared.fill_(c(4.0)).unwrap();
    assert_eq!(base.to_vec().unwrap(), vec![c::<T>(4.0); 3]);
    shared.t().unwrap().narrow(0, 1, 2).unwrap().zero_().unwrap();
    assert_eq!(base.to_vec().unwrap(), vec![c::<T>(4.0), c(0.0), c(0.0)]);
}

pub(crate) fn cuda_vs_cpu_inplace_ops_on_views(dev: Device) {
    inplace_sequence::<f32>(dev);
    inplace_sequence::<f64>(dev);
}

/// The tutorials' loop: forward, backward, `w -= lr * grad` under no_grad, `grad.zero_()`, on both devices.
fn training_loop<T: Element>(dev: Device) {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::<T>::rand_uniform_with(&[32, 3], c(-1.0), c(1.0), &mut rng);
    let y = x.matmul(&Tensor::new([[c::<T>(2.0)], [c(-1.0)], [c(0.5)]])).unwrap();
    let train = |device: Device| -> (Tensor<T>, Tensor<T>) {
        let (x, y) = (x.to(device).unwrap(), y.to(device).unwrap());
        let w = Tensor::<T>::full_on(&[3, 1], c(0.0), device).unwrap().requires_grad_(true).unwrap();
        let b = Tensor::<T>::full_on(&[1], c(0.0), device).unwrap().requires_grad_(true).unwrap();
        let mut loss = Tensor::scalar(c(0.0));
        for _ in 0..25 {
            loss = x.matmul(&w).unwrap().add(&b).unwrap().sub(&y).unwrap().square().unwrap().mean().unwrap();
            loss.backward().unwrap();
            for p in [&w, &b] {
                let g = p.grad().unwrap();
                no_grad(|| p.sub_(&g.mul_scalar(c(0.1))?).map(|_| ())).unwrap();
                g.zero_().unwrap();
            }
        }
        (w, loss)
    };
    let ((w_cpu, l_cpu), (w_gpu, l_gpu)) = (train(Device::Cpu), train(dev));
    assert_close("trained weights", &w_cpu, &w_gpu, tol::<T>() * 10.0);
    assert_close("final loss", &l_cpu, &l_gpu, tol::<T>() * 10.0);
}

pub(crate) fn cuda_vs_cpu_training_loop(dev: Device) {
    training_loop::<f32>(dev);
    training_loop::<f64>(dev);
}

pub(crate) fn cuda_round_trips_constructors_and_accumulation(dev: Device) {
    let x = Tensor::new([[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let g = x.to(dev).unwrap();
    assert_eq!(g.device(), dev);
    assert_eq!(g.to_vec2().unwrap(), x.to_vec2().unwrap());
    assert_eq!(g.t().unwrap().to_vec().unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(g.to(Device::Cpu).unwrap().device(), Device::Cpu);
    assert_eq!(Tensor::<f32>::full_on(&[2, 2], -0.0, dev).unwrap().to_vec().unwrap(), vec![-0.0; 4]);
    assert_eq!(Tensor::<f32>::full_on(&[3], 2.5, dev).unwrap().to_vec().unwrap(), vec![2.5; 3]);
    assert_eq!(Tensor::<f64>::full_on(&[0, 4], 1.0, dev).unwrap().to_vec().unwrap(), Vec::<f64>::new());
    assert_eq!(Tensor::<f64>::full_on(&[], 7.0, dev).unwrap().item().unwrap(), 7.0);
    // .grad accumulates across backward calls on the GPU as on the CPU.
    let w = g.detach().requires_grad_(true).unwrap();
    for _ in 0..2 {
        w.square().unwrap().sum().unwrap().backward().unwrap();
    }
    assert_eq!(w.grad().unwrap().device(), dev);
    assert_eq!(w.grad().unwrap().to_vec().unwrap(), vec![4.0, 8.0, 12.0, 16.0, 20.0, 24.0]);
}

pub(crate) fn cuda_mixed_device_ops(dev: Device) {
    let cpu = Tensor::new([1.0f32, 2.0]);
    let gpu = cpu.to(dev).unwrap();
    for (op, result) in [
        ("add", cpu.add(&gpu).map(|_| ())),
        ("matmul", gpu.matmul(&cpu).map(|_| ())),
        ("add_", gpu.add_(&cpu).map(|_| ())),
    ] {
        match result {
            Err(err @ Error::DeviceMismatch { .. }) => {
                let msg = err.to_string();
                assert!(msg.contains("expected all tensors on the same device"), "{op}: {msg}");
                assert!(msg.contains("cpu") && msg.contains("cuda:0"), "{op}: {msg}");
            }
            other => panic!("{op} across devices gave {other:?}"),
        }
    }
}

pub(crate) fn cuda_ops_with_a_cpu_scalar_as_torch(dev: Device) {
    // torch's one exception to "same device": a 0-D CPU tensor meets a GPU tensor as a scalar. The result is
    // on the GPU, and the scalar's gradient comes back to it on the CPU.
    let x = Tensor::new([1.0f64, 2.0, 3.0]).to(dev).unwrap().requires_grad_(true).unwrap();
    let s = Tensor::scalar(2.0f64).requires_grad_(true).unwrap();
    let y = x.mul(&s).unwrap().add(&s).unwrap().sub(&x.div(&s).unwrap()).unwrap();
    assert_eq!(y.device(), dev);
    assert_eq!(y.to_vec().unwrap(), vec![3.5, 5.0, 6.5]);
    y.sum().unwrap().backward().unwrap();
    // d/ds Σ(x s + s - x / s) = Σx + 3 + Σx / s² = 6 + 3 + 1.5; d/dx = s - 1/s.
    let gs = s.grad().unwrap();
    assert_eq!((gs.device(), gs.item().unwrap()), (Device::Cpu, 10.5));
    let gx = x.grad().unwrap();
    assert_eq!((gx.device(), gx.to_vec().unwrap()), (dev, vec![1.5; 3]));
    // Either side, comparisons too, and in place; a CPU tensor that is not 0-D is still refused.
    let lhs = Tensor::scalar(1.0f32).sub(&Tensor::new([0.5f32, 4.0]).to(dev).unwrap()).unwrap();
    assert_eq!((lhs.device(), lhs.to_vec().unwrap()), (dev, vec![0.5, -3.0]));
    let above = Tensor::new([0.5f32, 4.0]).to(dev).unwrap().gt(&Tensor::scalar(1.0)).unwrap();
    assert_eq!(above.to_vec().unwrap(), vec![0.0, 1.0]);
    let w = Tensor::new([1.0f32, 2.0]).to(dev).unwrap();
    w.add_(&Tensor::scalar(0.5)).unwrap().mul_(&Tensor::scalar(2.0)).unwrap();
    assert_eq!(w.to_vec().unwrap(), vec![3.0, 5.0]);
    let err = w.add(&Tensor::new([1.0f32])).unwrap_err();
    assert!(matches!(err, Error::DeviceMismatch { .. }), "{err}");
}

/// Runs in every build: asking for `cuda:7` where there is no such GPU is an `Err`, never a panic.
fn cuda7_without_such_a_gpu_is_an_error_not_a_panic() {
    let count = torchlet::cuda::device_count();
    assert_eq!(torchlet::cuda::is_available(), count > 0);
    if !cfg!(feature = "cuda") {
        assert_eq!(count, 0, "without the cuda feature there are no devices");
    }
    let full = Tensor::<f32>::full_on(&[2], 1.0, Device::Cuda(7));
    let moved = Tensor::new([1.0f64, 2.0]).to(Device::Cuda(7));
    if count > 7 {
        assert_eq!(full.unwrap().to_vec().unwrap(), vec![1.0, 1.0]);
        assert_eq!(moved.unwrap().device(), Device::Cuda(7));
        return;
    }
    for err in [full.map(|_| ()).unwrap_err(), moved.map(|_| ()).unwrap_err()] {
        let msg = err.to_string();
        assert!(matches!(err, Error::Cuda(_)), "{msg}");
        assert!(msg.contains("cuda:7"), "the message names the device: {msg}");
        let reasons = [
            "built without the `cuda` feature",
            "CUDA unavailable: libcuda.so not found",
            "no CUDA device (device_count = 0)",
            "cuda:7 requested but only",
        ];
        assert!(reasons.iter().any(|r| msg.contains(r)), "the message says why: {msg}");
    }
}

mod conv;
mod higher_order;
mod kernels_compile;
mod mixed;
mod more_ops;
mod nn;

use mixed::mixed_devices_are_refused_and_leave_the_operands_alone;
