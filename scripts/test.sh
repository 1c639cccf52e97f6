#!/usr/bin/env bash
# The full test suite: formatting, lints, the docs, the tests without optional features (the CPU emulation of
# the CUDA kernels among them), then with libtorch (`tch`, parity against PyTorch) and `cuda` (every kernel
# compiled by NVRTC), then every bench once in test mode. The GPU tests (tests/cuda) decide at run time: with
# a usable GPU they run, without one they are reported as ignored, with the reason. Where `nvidia-smi -L`
# finds a GPU, this script also sets TORCHLET_REQUIRE_GPU=1, so that a GPU torchlet cannot use is a failure,
# not a skip. Sets up libtorch and NVRTC from PyPI wheels first (idempotent).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "libtorch and NVRTC from PyPI wheels"
scripts/setup-libtorch.sh
scripts/setup-nvrtc.sh
# NVRTC is loaded at run time by the CUDA backend; tests/cuda (kernels_compile) fails on a kernel that does not
# compile, and on NVRTC missing from this path.
export LD_LIBRARY_PATH="$PWD/.nvrtc/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (default features, then tch + cuda)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --features tch,cuda -- -D warnings

step "cargo doc (warnings are errors: broken and redundant links fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features tch,cuda

step "cargo test --workspace (no optional features: the library and the tutorials need neither libtorch nor a GPU; includes the doc tests and the CPU emulation of the CUDA kernels, which needs g++)"
cargo test --workspace

# With the features, only the targets whose code depends on them run again: the library's unit tests (the
# CUDA backend), tests/libtorch (parity with libtorch), tests/cuda (the GPU tests; every kernel compiled by
# NVRTC), bad_inputs (devices), and the libtorch modules of tests/tutorials. The rest is the same code with or
# without the features, and ran above.
gpu=""
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    nvidia-smi -L
    export TORCHLET_REQUIRE_GPU=1
    gpu=yes
fi
step "cargo test --features tch,cuda (parity with libtorch; CUDA kernels compiled by NVRTC; GPU tests${gpu:+ required})"
cargo test --features tch,cuda --lib --test libtorch --test cuda --test bad_inputs
cargo test --features tch,cuda --test tutorials -- libtorch::

# Every bench once, in criterion's quick pass: a bench that no longer builds, or whose workload no longer agrees
# with its libtorch twin (each bench checks that before it times anything), fails here.
step "cargo test --benches --features tch,cuda -- --test (every bench once, each checked against its libtorch twin)"
cargo test --benches --features tch,cuda -- --test
if [[ -z $gpu ]]; then
    printf '\nNOTE: no GPU found (nvidia-smi -L): the GPU tests did NOT run; tests/cuda reported them as ignored, saying why.\n'
    printf 'On a GPU machine, scripts/gpu-check.sh build here, then gpu-check/gpu-check.sh run there.\n'
fi
