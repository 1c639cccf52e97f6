//! Peak resident memory (`VmHWM` from `/proc/self/status`) of whole workloads, torchlet beside libtorch,
//! printed as a markdown table. Each workload runs in a fresh child process (this binary re-executed with
//! `TORCHLET_PEAK_WORKLOAD` set), so one workload's high-water mark never includes another's.
//!
//! Run: `cargo bench --features tch --bench peak_memory [-- FILTER]` (without `tch`: torchlet rows only).
//! `TORCHLET_PEAK_T5_STEPS` overrides the number of T5 steps (default 1 000 000). One workload alone:
//! `TORCHLET_PEAK_WORKLOAD=<name> target/release/deps/peak_memory-<hash>` prints its `peak_rss_kib=` and
//! `seconds=`; besides the table's, `t5_tensor_torchlet` and `t5_tensor_libtorch` (T5 raw-tensor autograd).
//! With `--test` (criterion's quick pass, as `scripts/bench-check.sh` runs every bench) each workload runs
//! with two steps only, all in this process, to check that every one still runs; nothing is measured.
//!
//! The "idle" row is a child that does nothing: its peak is the process's floor (the binary, its shared
//! libraries, and with `tch` libtorch's static initialisers, which run whether libtorch is used or not), so
//! the "above idle" columns are what a workload itself adds.

mod common;

use common::{t5_data, T5_LR};
use rand::rngs::StdRng;
use rand::Rng;
use rand::SeedableRng;
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use torchlet::nn::{CrossEntropyLoss, Linear, Module, ReLU, Sequential};
use torchlet::optim::{Adam, Optimizer, SGD};
use torchlet::{Result, Tensor};
use torchlet_tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};

const ENV: &str = "TORCHLET_PEAK_WORKLOAD";
/// Set in the quick pass (`--test`).
static QUICK: AtomicBool = AtomicBool::new(false);

/// `full` steps, or 2 in the quick pass.
fn steps(full: usize) -> usize {
    if QUICK.load(Ordering::Relaxed) {
        2
    } else {
        full
    }
}

fn t5_steps() -> usize {
    std::env::var("TORCHLET_PEAK_T5_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| steps(1_000_000))
}

fn linear_steps() -> usize {
    steps(20)
}

/// Steps of the 784-128-10 MLP with Adam, and of the digits network with SGD.
fn mlp_steps() -> usize {
    steps(200)
}

/// Epochs of T8.
fn t8_epochs() -> usize {
    steps(32)
}

/// A table row: what it measures, and the workloads (names for the child) on each side.
struct Row {
    label: String,
    torchlet: &'static str,
    libtorch: &'static str,
}

fn rows() -> Vec<Row> {
    let steps = t5_steps();
    vec![
        Row { label: "idle process (no work)".into(), torchlet: "idle", libtorch: "idle" },
        Row {
            label: format!("T5 built-ins step (Linear+MSELoss+SGD) x {steps}, f32"),
            torchlet: "t5_builtins_torchlet",
            libtorch: "t5_builtins_libtorch",
        },
        Row {
            label: format!("MLP 784-128-10 + CrossEntropyLoss + Adam, batch 128, step x {}, f32", mlp_steps()),
            torchlet: "mlp784_adam_torchlet",
            libtorch: "mlp784_adam_libtorch",
        },
        Row {
            label: format!("digits MLP 64-32-10 + CrossEntropyLoss + SGD, batch 128, step x {}, f32", mlp_steps()),
            torchlet: "digits_sgd_torchlet",
            libtorch: "digits_sgd_libtorch",
        },
        Row {
            label: format!("T8 MLP epoch (4 steps + validation on 9 100 rows) x {}, f64", t8_epochs()),
            torchlet: "t8_epoch_torchlet",
            libtorch: "t8_epoch_libtorch",
        },
        Row {
            label: format!("Linear(512->256) batch 4096 step x {}, f32", linear_steps()),
            torchlet: "linear_f32_torchlet",
            libtorch: "linear_f32_libtorch",
        },
        Row {
            label: format!("Linear(512->256) batch 4096 step x {}, f64", linear_steps()),
            torchlet: "linear_f64_torchlet",
            libtorch: "linear_f64_libtorch",
        },
    ]
}

/// Runs one workload in this process.
fn run_workload(name: &str) -> Result<()> {
    match name {
        "idle" => Ok(()),
        "t5_builtins_torchlet" => {
            let (x, y) = t5_data::<f32>()?;
            let mut model = AutodiffLinear::new(Linear::from_parameters(&Tensor::zeros(&[1, 2]), None)?, T5_LR)?;
            for _ in 0..t5_steps() {
                black_box(model.train_step(&x, &y)?);
            }
            Ok(())
        }
        "t5_tensor_torchlet" => {
            let (x, y) = t5_data::<f32>()?;
            let mut model = TensorLinear::new(Tensor::zeros(&[1, 2]), None, T5_LR)?;
            for _ in 0..t5_steps() {
                black_box(model.train_step(&x, &y)?);
            }
            Ok(())
        }
        "mlp784_adam_torchlet" => {
            let (mut rng, mut model) = (StdRng::seed_from_u64(7), Sequential::new());
            model = model
                .add(Linear::<f32>::with_rng(784, 128, true, &mut rng))
                .add(ReLU)
                .add(Linear::with_rng(128, 10, true, &mut rng));
            let x = Tensor::randn_with(&[128, 784], &mut rng);
            let labels: Vec<usize> = (0..128).map(|_| rng.random_range(0..10)).collect();
            let opt = Adam::new(model.parameters(), 1e-3)?;
            classifier_steps(&model, opt, &x, &labels)
        }
        "digits_sgd_torchlet" => {
            let (mut rng, mut model) = (StdRng::seed_from_u64(7), Sequential::new());
            model = model
                .add(Linear::<f32>::with_rng(64, 32, true, &mut rng))
                .add(ReLU)
                .add(Linear::with_rng(32, 10, true, &mut rng));
            let digits = torchlet::data::load_digits::<f32>()?;
            let opt = SGD::new(model.parameters(), 0.5)?;
            classifier_steps(&model, opt, &digits.x.narrow(0, 0, 128)?, &digits.y.to_labels()?[..128])
        }
        "t8_epoch_torchlet" => {
            use torchlet_tutorials::mlp::{mlp_data, mlp_linears, AutodiffMlp, BATCH, LAYERS, LR};
            let data = mlp_data(2024)?;
            let activations: Vec<_> = LAYERS.iter().map(|l| l.2).collect();
            let mut model =
                AutodiffMlp::new(mlp_linears::<f64, _>(&mut StdRng::seed_from_u64(2024)), &activations, LR)?;
            let (mut train, mut valid) = data.loaders(BATCH, data.y_valid.shape()[0], None)?;
            black_box(torchlet_tutorials::regression::fit(
                &mut model,
                &mut train,
                &mut valid,
                t8_epochs(),
                |_, _, _| {},
            )?);
            Ok(())
        }
        "linear_f32_torchlet" => linear_torchlet::<f32>(),
        "linear_f64_torchlet" => linear_torchlet::<f64>(),
        #[cfg(feature = "tch")]
        other => libtorch::run(other),
        #[cfg(not(feature = "tch"))]
        other => panic!("unknown workload {other:?} (libtorch workloads need --features tch)"),
    }
}

/// `mlp_steps()` steps of `model` on `(x, labels)`: cross-entropy, `zero_grad`, `backward`, `step`, the loss read.
fn classifier_steps(
    model: &Sequential<f32>,
    mut opt: impl Optimizer<f32>,
    x: &Tensor<f32>,
    labels: &[usize],
) -> Result<()> {
    let criterion = CrossEntropyLoss::new();
    for _ in 0..mlp_steps() {
        let loss = criterion.forward(&model.forward(x)?, labels)?;
        opt.zero_grad();
        loss.backward()?;
        opt.step()?;
        black_box(loss.item()?);
    }
    Ok(())
}

fn linear_torchlet<T: torchlet::Element>() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let (x, y) = (Tensor::<T>::randn_with(&[4096, 512], &mut rng), Tensor::<T>::randn_with(&[4096, 256], &mut rng));
    let mut model = AutodiffLinear::new(Linear::<T>::with_rng(512, 256, true, &mut rng), 0.01)?;
    for _ in 0..linear_steps() {
        black_box(model.train_step(&x, &y)?);
    }
    Ok(())
}

/// The libtorch workloads build their data with libtorch itself, so no torchlet copy inflates their peak.
#[cfg(feature = "tch")]
mod libtorch {
    use super::{linear_steps, mlp_steps, t5_steps, t8_epochs, T5_LR};
    use std::hint::black_box;
    use tch::nn::Module;
    use tch::nn::OptimizerConfig;
    use tch::{Device, Kind, Tensor};
    use torchlet::Result;

    fn t5_data() -> (Tensor, Tensor) {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape([3, 2]);
        let y = Tensor::from_slice(&[50.0f32, 110.0, 170.0]).reshape([3, 1]);
        (x, y)
    }

    pub fn run(name: &str) -> Result<()> {
        match name {
            "t5_builtins_libtorch" => {
                let (x, y) = t5_data();
                let vs = tch::nn::VarStore::new(Device::Cpu);
                let config = tch::nn::LinearConfig { bias: false, ..Default::default() };
                let linear = tch::nn::linear(vs.root(), 2, 1, config);
                tch::no_grad(|| {
                    let _ = linear.ws.shallow_clone().zero_();
                });
                let mut opt = tch::nn::Sgd::default().build(&vs, T5_LR).expect("libtorch SGD");
                for _ in 0..t5_steps() {
                    black_box(crate::common::tch_linear_step(&linear, &mut opt, &x, &y));
                }
            }
            "t5_tensor_libtorch" => {
                let (x, y) = t5_data();
                let mut w = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
                for _ in 0..t5_steps() {
                    black_box(crate::common::tch_tensor_step(&mut w, &x, &y, T5_LR));
                }
            }
            "mlp784_adam_libtorch" => {
                tch::manual_seed(7);
                let x = Tensor::randn([128, 784], (Kind::Float, Device::Cpu));
                let labels = Tensor::randint(10, [128], (Kind::Int64, Device::Cpu));
                classifier(&[784, 128, 10], &x, &labels, tch::nn::Adam::default(), 1e-3);
            }
            "digits_sgd_libtorch" => {
                // The digits come from torchlet's loader (a 230 KiB table), converted.
                let digits = torchlet::data::load_digits::<f32>()?;
                let x = torchlet_tutorials::libtorch::to_tch(&digits.x.narrow(0, 0, 128)?)?;
                let labels =
                    Tensor::from_slice(&digits.y.to_labels()?[..128].iter().map(|&l| l as i64).collect::<Vec<_>>());
                drop(digits);
                classifier(&[64, 32, 10], &x, &labels, tch::nn::Sgd::default(), 0.5);
            }
            "t8_epoch_libtorch" => {
                // T8's data comes from torchlet's make_regression (0.7 MiB), converted once.
                use torchlet_tutorials::libtorch::{to_tch, TchLoss, TchNet};
                use torchlet_tutorials::mlp::{mlp_data, BATCH, LAYERS, LR};
                let data = mlp_data(2024)?;
                let mut batches = Vec::new();
                for start in (0..1000).step_by(BATCH) {
                    let len = BATCH.min(1000 - start);
                    batches.push((
                        to_tch(&data.x_train.narrow(0, start, len)?)?,
                        to_tch(&data.y_train.narrow(0, start, len)?)?,
                    ));
                }
                let valid = (to_tch(&data.x_valid)?, to_tch(&data.y_valid)?);
                drop(data);
                let mut net = TchNet::<f64>::new(&LAYERS, TchLoss::Mse, LR, 2024)?;
                for _ in 0..t8_epochs() {
                    for (x, y) in &batches {
                        black_box(net.train_step_tch(x, y)?);
                    }
                    black_box(net.loss_tch(&valid.0, &valid.1)?);
                }
            }
            "linear_f32_libtorch" => linear(Kind::Float),
            "linear_f64_libtorch" => linear(Kind::Double),
            other => panic!("unknown workload {other:?}"),
        }
        Ok(())
    }

    /// `mlp_steps()` steps of `Linear`s of `widths` with ReLU between, cross-entropy and `optimizer` at `lr`.
    fn classifier(widths: &[i64], x: &Tensor, labels: &Tensor, optimizer: impl OptimizerConfig, lr: f64) {
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let mut model = tch::nn::seq();
        for (i, pair) in widths.windows(2).enumerate() {
            if i > 0 {
                model = model.add_fn(|x| x.relu());
            }
            model = model.add(tch::nn::linear(vs.root() / (2 * i), pair[0], pair[1], Default::default()));
        }
        let mut opt = optimizer.build(&vs, lr).expect("libtorch optimizer");
        for _ in 0..mlp_steps() {
            let loss = model.forward(x).cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0);
            opt.zero_grad();
            loss.backward();
            opt.step();
            black_box(loss.double_value(&[]));
        }
    }

    fn linear(kind: Kind) {
        tch::manual_seed(7);
        let x = Tensor::randn([4096, 512], (kind, Device::Cpu));
        let y = Tensor::randn([4096, 256], (kind, Device::Cpu));
        let mut vs = tch::nn::VarStore::new(Device::Cpu);
        let linear = tch::nn::linear(vs.root(), 512, 256, Default::default());
        vs.set_kind(kind);
        let mut opt = tch::nn::Sgd::default().build(&vs, 0.01).expect("libtorch SGD");
        for _ in 0..linear_steps() {
            black_box(crate::common::tch_linear_step(&linear, &mut opt, &x, &y));
        }
    }
}

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmHWM value in kB")
}

/// Runs `workload` in a child process; returns (peak RSS in KiB, seconds of the workload itself).
fn measure(workload: &str) -> (u64, f64) {
    let exe = std::env::current_exe().expect("path of this benchmark binary");
    let output = Command::new(exe).env(ENV, workload).output().expect("re-executing the benchmark binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        panic!(
            "workload {workload} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let field = |key: &str| -> &str {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in the output of workload {workload}:\n{stdout}"))
    };
    (field("peak_rss_kib=").trim().parse().expect("peak RSS"), field("seconds=").trim().parse().expect("seconds"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn delta(kib: u64, idle: u64) -> String {
    format!("{:+.1} MiB", (kib as f64 - idle as f64) / 1024.0)
}

fn main() {
    if let Ok(workload) = std::env::var(ENV) {
        common::set_libtorch_threads();
        let start = Instant::now();
        run_workload(&workload).unwrap_or_else(|e| panic!("workload {workload}: {e}"));
        println!("seconds={}", start.elapsed().as_secs_f64());
        println!("peak_rss_kib={}", peak_rss_kib());
        return;
    }
    if !cfg!(feature = "tch") {
        eprintln!("!!! peak_memory: libtorch twins SKIPPED (built without --features tch): torchlet rows only");
    }
    if std::env::args().any(|a| a == "--test") {
        QUICK.store(true, Ordering::Relaxed);
        common::set_libtorch_threads();
        for row in rows() {
            let sides = if cfg!(feature = "tch") { vec![row.torchlet, row.libtorch] } else { vec![row.torchlet] };
            for workload in sides {
                run_workload(workload).unwrap_or_else(|e| panic!("workload {workload}: {e}"));
                eprintln!("peak_memory --test: {workload} ran ({})", row.label);
            }
        }
        return;
    }
    // `cargo bench` passes `--bench`; any other argument filters the rows by substring.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let with_libtorch = cfg!(feature = "tch");
    let (idle, _) = measure("idle");
    println!("\n| workload | torchlet peak RSS | libtorch peak RSS | torchlet above idle | libtorch above idle | torchlet time | libtorch time |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows() {
        if !filters.is_empty()
            && !filters.iter().any(|f| row.label.contains(f.as_str()) || row.torchlet.contains(f.as_str()))
        {
            continue;
        }
        let (ours, our_time) = measure(row.torchlet);
        let (theirs, their_time) = if with_libtorch { measure(row.libtorch) } else { (0, 0.0) };
        let na = || "n/a".to_string();
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {} |",
            row.label,
            mib(ours),
            if with_libtorch { mib(theirs) } else { na() },
            delta(ours, idle),
            if with_libtorch { delta(theirs, idle) } else { na() },
            our_time,
            if with_libtorch { format!("{their_time:.2} s") } else { na() },
        );
    }
    println!(
        "\nPeak RSS = VmHWM of a fresh child process per cell; idle = {} (binary {} libtorch).",
        mib(idle),
        if with_libtorch { "linked with" } else { "without" }
    );
}
