//! Peak resident memory (`VmHWM` from `/proc/self/status`) of whole workloads, torchlet beside libtorch,
//! printed as a markdown table. Each workload runs in a fresh child process (this binary re-executed with
//! `TORCHLET_PEAK_WORKLOAD` set), so one workload's high-water mark never includes another's.
//!
//! Run: `cargo bench --features tch --bench peak_memory [-- FILTER]` (without `tch`: torchlet rows only).
//! `TORCHLET_PEAK_T5_STEPS` overrides the number of T5 steps (default 1 000 000). One workload alone:
//! `TORCHLET_PEAK_WORKLOAD=<name> target/release/deps/peak_memory-<hash>` prints its `peak_rss_kib=` and
//! `seconds=`; besides the table's, `t5_tensor_torchlet` and `t5_tensor_libtorch` (T5 raw-tensor autograd).
//!
//! The "idle" row is a child that does nothing: its peak is the process's floor (the binary, its shared
//! libraries, and with `tch` libtorch's static initialisers, which run whether libtorch is used or not), so
//! the "above idle" columns are what a workload itself adds.

mod common;

use common::{t5_data, T5_LR};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;
use torchlet::nn::Linear;
use torchlet::tutorials::regression::{AutodiffLinear, Regressor, TensorLinear};
use torchlet::{Result, Tensor};

const ENV: &str = "TORCHLET_PEAK_WORKLOAD";
const LINEAR_STEPS: usize = 20;

fn t5_steps() -> usize {
    std::env::var("TORCHLET_PEAK_T5_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000)
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
            label: format!("Linear(512->256) batch 4096 step x {LINEAR_STEPS}, f32"),
            torchlet: "linear_f32_torchlet",
            libtorch: "linear_f32_libtorch",
        },
        Row {
            label: format!("Linear(512->256) batch 4096 step x {LINEAR_STEPS}, f64"),
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
        "linear_f32_torchlet" => linear_torchlet::<f32>(),
        "linear_f64_torchlet" => linear_torchlet::<f64>(),
        #[cfg(feature = "tch")]
        other => libtorch::run(other),
        #[cfg(not(feature = "tch"))]
        other => panic!("unknown workload {other:?} (libtorch workloads need --features tch)"),
    }
}

fn linear_torchlet<T: torchlet::Element>() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let (x, y) = (Tensor::<T>::randn(&[4096, 512], &mut rng), Tensor::<T>::randn(&[4096, 256], &mut rng));
    let mut model = AutodiffLinear::new(Linear::<T>::new(512, 256, true, &mut rng), 0.01)?;
    for _ in 0..LINEAR_STEPS {
        black_box(model.train_step(&x, &y)?);
    }
    Ok(())
}

/// The libtorch workloads build their data with libtorch itself, so no torchlet copy inflates their peak.
#[cfg(feature = "tch")]
mod libtorch {
    use super::{t5_steps, LINEAR_STEPS, T5_LR};
    use std::hint::black_box;
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
            "linear_f32_libtorch" => linear(Kind::Float),
            "linear_f64_libtorch" => linear(Kind::Double),
            other => panic!("unknown workload {other:?}"),
        }
        Ok(())
    }

    fn linear(kind: Kind) {
        tch::manual_seed(7);
        let x = Tensor::randn([4096, 512], (kind, Device::Cpu));
        let y = Tensor::randn([4096, 256], (kind, Device::Cpu));
        let mut vs = tch::nn::VarStore::new(Device::Cpu);
        let linear = tch::nn::linear(vs.root(), 512, 256, Default::default());
        vs.set_kind(kind);
        let mut opt = tch::nn::Sgd::default().build(&vs, 0.01).expect("libtorch SGD");
        for _ in 0..LINEAR_STEPS {
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
