#!/usr/bin/env python3
"""Compares a tutorial example's output on cuda with its output on the CPU: every figure of the lines that
report training (losses per epoch, weights, predictions), skipping timings and the within-run differences
between ways (tiny numbers whose relative change means nothing). Prints the largest relative difference, each
figure's magnitude floored at 1e-6; exits 1 above 1e-3 (f32 figures printed to 4 decimals may differ in the
last digit) or when the two outputs report different numbers of figures.

usage: gpu_compare_examples.py CPU_LOG CUDA_LOG"""
import re
import sys

SKIP = ("µs", "ms per", "difference", " vs ", "MAPE", "L2 distance", "written", "libtorch", "device:")
NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def figures(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [float(x) for line in f if not any(s in line for s in SKIP) for x in NUMBER.findall(line)]


def main() -> int:
    cpu, gpu = figures(sys.argv[1]), figures(sys.argv[2])
    if not cpu or len(cpu) != len(gpu):
        print(f"FAILED: figures differ in number ({len(cpu)} on the CPU, {len(gpu)} on cuda)")
        return 1
    worst = max(abs(x - y) / max(abs(x), abs(y), 1e-6) for x, y in zip(cpu, gpu))
    verdict = "ok" if worst <= 1e-3 else "FAILED"
    print(f"{verdict}: largest relative difference {worst:.2e} over {len(cpu)} figures")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
