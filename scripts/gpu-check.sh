#!/usr/bin/env bash
# The CUDA check, in two halves: `build` on a machine with the Rust toolchain (no GPU needed), `run` on a GPU
# machine that has neither a Rust toolchain nor a network.
#
#   scripts/gpu-check.sh build   compiles, with --features cuda in release mode and stripped, the CUDA test
#                                binaries, the tutorial examples and the CUDA bench into gpu-check/ (git-ignored,
#                                well under 64 MiB), with this script and scripts/gpu_reference.py.
#   gpu-check/gpu-check.sh run   (on the GPU machine, from anywhere) finds NVRTC and cuBLAS (ldconfig, then the
#                                nvidia/*/lib folders of Python's site-packages), runs every CUDA test including
#                                the ignored ones, runs each tutorial example on cuda and on the CPU and compares
#                                their final figures, times the CUDA bench beside PyTorch on the same GPU, and
#                                writes a summary to $OUT/gpu-check.md (stdout when OUT is unset).
# Without a GPU, `run` stops at its first step, saying so.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
examples=(simple_linear_regression multivariate_linear_regression multioutput_linear_regression crop_yields
    linear_regression_three_ways)
tests=(cuda bad_inputs cuda_kernels_compile)

build() {
    cd "$here/.."
    local out=gpu-check
    rm -rf "$out" && mkdir -p "$out/bin"
    local json
    json=$(mktemp)
    local test_args=()
    for t in "${tests[@]}"; do test_args+=(--test "$t"); done
    cargo test --release --features cuda --no-run --message-format=json "${test_args[@]}" >"$json"
    cargo bench --features cuda --no-run --message-format=json --bench cuda_ops >>"$json"
    python3 - "$json" "$out/bin" <<'PY'
import json, shutil, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        kind = "bench" if m["target"]["kind"] == ["bench"] else "test"
        shutil.copy(m["executable"], f"{sys.argv[2]}/{kind}-{m['target']['name']}")
PY
    rm -f "$json"
    cargo build --release --features cuda "${examples[@]/#/--example=}"
    for e in "${examples[@]}"; do cp "target/release/examples/$e" "$out/bin/example-$e"; done
    strip --strip-all "$out"/bin/* 2>/dev/null || echo "strip not found: binaries keep their symbols" >&2
    cp scripts/gpu-check.sh scripts/gpu_reference.py "$out/"
    local size
    size=$(du -sm "$out" | cut -f1)
    echo "gpu-check/: $(ls "$out/bin" | wc -l) binaries, ${size} MiB"
    if ((size > 60)); then
        echo "gpu-check/ is ${size} MiB, over the 60 MiB budget for the transfer" >&2
        exit 1
    fi
}

# Directories holding libnvrtc and libcublas: the dynamic linker's cache first, then NVIDIA's pip wheels.
cuda_library_dirs() {
    ldconfig -p 2>/dev/null | grep -E 'libnvrtc\.so|libcublas\.so' | sed 's/.*=> //' | xargs -r -n1 dirname
    python3 - <<'PY' 2>/dev/null || true
import glob, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for root in roots:
    for lib in glob.glob(f"{root}/nvidia/*/lib") + glob.glob(f"{root}/nvidia/cu*/lib"):
        print(lib)
PY
}

run() {
    local bin="$here/bin"
    local report
    report=$(mktemp)
    say() { echo "$*" | tee -a "$report"; }
    finish() {
        if [[ -n "${OUT:-}" ]]; then mkdir -p "$OUT" && cp "$report" "$OUT/gpu-check.md"; fi
    }
    trap finish EXIT

    say "# GPU check"
    say ""
    say "## GPU"
    if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
        say "FAILED: no GPU found (nvidia-smi -L): this step needs an NVIDIA GPU and its driver"
        exit 1
    fi
    say "$(nvidia-smi -L)"
    say "$(nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader)"
    local dirs
    dirs=$(cuda_library_dirs | sort -u | paste -sd: -)
    export LD_LIBRARY_PATH="${dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "NVRTC/cuBLAS search path: ${dirs:-none found}"

    say ""
    say "## Tests (ignored GPU tests included)"
    local failed=0
    for t in "$bin"/test-*; do
        local log
        log=$(mktemp)
        if timeout 240 "$t" --include-ignored --test-threads=4 >"$log" 2>&1; then
            say "- $(basename "$t"): $(grep -E '^test result' "$log" | tail -1)"
        else
            failed=1
            say "- $(basename "$t"): FAILED"
            grep -E 'panicked|FAILED|^---- ' "$log" | head -40 | sed 's/^/    /' | tee -a "$report"
        fi
        rm -f "$log"
    done

    say ""
    say "## Tutorial examples, cuda against the CPU (largest relative difference of the last figures printed)"
    for e in "$bin"/example-*; do
        local name cpu gpu
        name=$(basename "$e")
        cpu=$(cd "$(mktemp -d)" && timeout 120 "$e" --device cpu 2>&1 | tail -8) || true
        if gpu=$(cd "$(mktemp -d)" && timeout 120 "$e" --device cuda 2>&1 | tail -8); then
            say "- $name: $(python3 - "$cpu" "$gpu" <<'PY'
import re, sys
nums = lambda s: [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", s)]
a, b = nums(sys.argv[1]), nums(sys.argv[2])
if not a or len(a) != len(b):
    print(f"figures differ in number ({len(a)} on the CPU, {len(b)} on cuda)")
else:
    print(f"{max(abs(x - y) / max(abs(x), 1e-30) for x, y in zip(a, b)):.2e} over {len(a)} figures")
PY
)"
        else
            failed=1
            say "- $name: FAILED on cuda"
            echo "$gpu" | sed 's/^/    /' | tee -a "$report"
        fi
    done

    say ""
    say "## Speed: torchlet (criterion medians) beside PyTorch on the same GPU"
    for b in "$bin"/bench-*; do
        timeout 240 "$b" --bench --warm-up-time 1 --measurement-time 3 2>&1 | grep -E '^cuda_f32|time:|SKIPPED' | tee -a "$report" || failed=1
    done
    python3 "$here/gpu_reference.py" 2>&1 | tee -a "$report" || true
    say ""
    if ((failed)); then
        say "RESULT: some GPU checks FAILED (above)"
        exit 1
    fi
    say "RESULT: all GPU checks passed"
}

case "${1:-}" in
    build) build ;;
    run) run ;;
    *)
        sed -n '2,14p' "${BASH_SOURCE[0]}"
        exit 2
        ;;
esac
