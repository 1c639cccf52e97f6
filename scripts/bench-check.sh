#!/usr/bin/env bash
# Every benchmark once, in criterion's quick pass (`--test`): without optional features (torchlet alone; each
# bench says loudly that its libtorch twin is skipped), then with `--features tch`, where each bench first
# compares its torchlet workload's results with its libtorch twin's (losses and parameters after the same
# steps from the same start, GEMM products within their rounding bound) and fails on a difference beyond its
# stated tolerance. A bench that no longer builds, panics or disagrees fails this script. Nothing is timed.
#
# Usage: scripts/bench-check.sh [--no-tch]
# Takes a couple of minutes beyond building the benches (release profile, both feature sets).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

with_tch=1
for arg in "$@"; do
    case "$arg" in
        --no-tch) with_tch=0 ;;
        -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

step "cargo bench --benches -- --test (torchlet alone)"
cargo bench --benches -- --test

if [[ $with_tch -eq 1 ]]; then
    step "libtorch from the PyPI wheel"
    scripts/setup-libtorch.sh
    step "cargo bench --benches --features tch -- --test (each workload against its libtorch twin)"
    cargo bench --benches --features tch -- --test
fi
