#!/usr/bin/env python3
"""Markdown tables from criterion's results: torchlet beside libtorch, pair by pair.

Usage: scripts/bench_report.py CRITERION_DIR

Reads CRITERION_DIR/<group>/<function>/new/{benchmark,estimates}.json (criterion 0.7). In each group the
function `libtorch` is the reference: every function whose name starts with `torchlet` gets a row in the
main table, ratio = libtorch time / torchlet time (> 1: torchlet faster). Any other function (matrixmultiply
called directly, libtorch on one thread, ...) goes to a second table, compared with the group's `torchlet`.
Times are criterion's median per iteration, with the half-width of its 95% confidence interval; the
"best" columns take each side's fastest sample (time / iterations from sample.json), which other load on a
shared machine can only slow down, so their ratio is the steadier one when the medians are noisy.
"""

import json
import sys
from pathlib import Path

# Row order and descriptions; groups not listed here come after, sorted by id.
WORKLOADS = {
    "t5_builtins_step_f32": "T5 built-ins step: Linear(2,1, no bias)+MSELoss+SGD, X[3,2], f32",
    "t5_builtins_step_f64": "T5 built-ins step: Linear(2,1, no bias)+MSELoss+SGD, X[3,2], f64",
    "t5_tensor_step_f32": "T5 tensor-autograd step: X wᵀ, sum(d²)/n, backward, no_grad update, f32",
    "t5_tensor_step_f64": "T5 tensor-autograd step: X wᵀ, sum(d²)/n, backward, no_grad update, f64",
    "t1_fit_f64": "T1 fit: 16 epochs x 4 batches (100 rows) + validation on 10 000, 1 feature, f64",
    "t2_fit_f64": "T2 fit: 16 epochs x 4 batches (100 rows) + validation on 10 000, 4 features, f64",
    "mlp784_adam_step_f32": "MLP 784-128(ReLU)-10 step: CrossEntropyLoss + Adam(1e-3), batch 128, f32",
    "digits_sgd_step_f32": "digits MLP 64-32(ReLU)-10 step: CrossEntropyLoss + SGD(0.5), batch 128, f32",
    "t8_epoch_f64": "T8 epoch: 5-layer MLP, 4 batches (333x3 + 1) + validation on 9 100 rows, MSELoss + SGD, f64",
    "t8_epoch_f32": "T8 epoch: 5-layer MLP, 4 batches (333x3 + 1) + validation on 9 100 rows, MSELoss + SGD, f32",
    "gemm_f32_64": "GEMM 64x64 f32",
    "gemm_f32_256": "GEMM 256x256 f32",
    "gemm_f32_1024": "GEMM 1024x1024 f32",
    "gemm_f64_64": "GEMM 64x64 f64",
    "gemm_f64_256": "GEMM 256x256 f64",
    "gemm_f64_1024": "GEMM 1024x1024 f64",
    "linear512x256_b4096_step_f32": "Linear(512->256) step, batch 4096, f32",
    "linear512x256_b4096_step_f64": "Linear(512->256) step, batch 4096, f64",
    "add_1e7_f32": "add, 10^7 f32",
    "mul_1e7_f32": "mul, 10^7 f32",
    "sum_1e7_f32": "sum, 10^7 f32",
    "mean_1e7_f32": "mean, 10^7 f32",
    "exp_1e7_f32": "exp, 10^7 f32",
    "relu_1e7_f32": "relu, 10^7 f32",
    "sigmoid_1e7_f32": "sigmoid, 10^7 f32",
    "tanh_1e7_f32": "tanh, 10^7 f32",
    "gelu_1e7_f32": "gelu, 10^7 f32",
    "silu_1e7_f32": "silu, 10^7 f32",
    "add_1e7_f64": "add, 10^7 f64",
    "mul_1e7_f64": "mul, 10^7 f64",
    "sum_1e7_f64": "sum, 10^7 f64",
    "mean_1e7_f64": "mean, 10^7 f64",
    "exp_1e7_f64": "exp, 10^7 f64",
    "relu_1e7_f64": "relu, 10^7 f64",
    "sigmoid_1e7_f64": "sigmoid, 10^7 f64",
    "tanh_1e7_f64": "tanh, 10^7 f64",
    "gelu_1e7_f64": "gelu, 10^7 f64",
    "silu_1e7_f64": "silu, 10^7 f64",
}


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def load(root):
    results = {}
    for meta_path in sorted(root.glob("**/new/benchmark.json")):
        meta = json.loads(meta_path.read_text())
        estimates = json.loads((meta_path.parent / "estimates.json").read_text())
        sample = json.loads((meta_path.parent / "sample.json").read_text())
        median = estimates["median"]
        ci = median["confidence_interval"]
        results.setdefault(meta["group_id"], {})[meta["function_id"]] = {
            "median": median["point_estimate"],
            "half_width": (ci["upper_bound"] - ci["lower_bound"]) / 2,
            "best": min(t / n for t, n in zip(sample["times"], sample["iters"])),
        }
    return results


def cell(m):
    if m is None:
        return "n/a"
    return f"{fmt_time(m['median'])} ±{100 * m['half_width'] / m['median']:.0f}%"


def ratio(reference, ours, key):
    return f"{reference[key] / ours[key]:.2f}" if reference and ours else "n/a"


def best(m):
    return fmt_time(m["best"]) if m else "n/a"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    results = load(root)
    if not results:
        sys.exit(f"no criterion results under {root}")
    order = [g for g in WORKLOADS if g in results] + sorted(g for g in results if g not in WORKLOADS)

    print("| workload | torchlet | libtorch | ratio (libtorch / torchlet) | torchlet best | libtorch best | ratio best |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    others = []
    for group in order:
        functions = results[group]
        reference = functions.get("libtorch")
        for name in sorted(functions):
            if name == "libtorch":
                continue
            if not name.startswith("torchlet"):
                others.append((group, name))
                continue
            label = WORKLOADS.get(group, group)
            if name != "torchlet":
                label += f" ({name.removeprefix('torchlet_')})"
            ours = functions[name]
            print(
                f"| {label} `{group}` | {cell(ours)} | {cell(reference)} | {ratio(reference, ours, 'median')} "
                f"| {best(ours)} | {best(reference)} | {ratio(reference, ours, 'best')} |"
            )

    if others:
        print("\nOther measurements (ratio = its time / torchlet's time; > 1: torchlet faster):\n")
        print("| workload | variant | time | torchlet | ratio | variant best | torchlet best | ratio best |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for group, name in others:
            m, ours = results[group][name], results[group].get("torchlet")
            print(
                f"| {WORKLOADS.get(group, group)} `{group}` | {name} | {cell(m)} | {cell(ours)} "
                f"| {ratio(m, ours, 'median')} | {best(m)} | {best(ours)} | {ratio(m, ours, 'best')} |"
            )
    print(
        "\nTimes: criterion's median per iteration ± half its 95% confidence interval; "
        "best: the fastest of the samples (each sample averages many iterations)."
    )


if __name__ == "__main__":
    main()
