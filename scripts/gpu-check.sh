#!/usr/bin/env bash
# The CUDA check, in two halves: `build` on a machine with the Rust toolchain (no GPU needed), `run` on a GPU
# machine that has neither a Rust toolchain nor a network.
#
#   scripts/gpu-check.sh build   compiles, with --features cuda in release mode and stripped, the CUDA test
#                                binaries, the tutorial examples and the CUDA bench, packed into
#                                gpu-check/bin.tar.gz (git-ignored, well under 64 MiB), with this script,
#                                scripts/gpu_reference.py and scripts/gpu_compare_examples.py.
#   gpu-check/gpu-check.sh run   (on the GPU machine, from anywhere) finds NVRTC and cuBLAS (ldconfig, then the
#                                nvidia/*/lib folders of Python's site-packages), runs every CUDA test with
#                                TORCHLET_REQUIRE_GPU=1 (a GPU test cannot be skipped), runs each tutorial
#                                example on cuda and on the CPU and compares their training figures, times the CUDA bench beside PyTorch on the same GPU, and
#                                writes a summary to $OUT/gpu-check.md and the full logs to
#                                $OUT/logs/logs.tar.gz (the summary alone, on stdout, when OUT is unset).
# Without a GPU, `run` stops at its first step, saying so.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
examples=(simple_linear_regression multivariate_linear_regression multioutput_linear_regression crop_yields
    linear_regression_three_ways binary_classification multiclass_classification mlp digits_classifier)
tests=(cuda bad_inputs)

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
    cp scripts/gpu-check.sh scripts/gpu_reference.py scripts/gpu_compare_examples.py "$out/"
    # Packed, the binaries travel in a third of the space.
    local count
    count=$(ls "$out/bin" | wc -l)
    tar czf "$out/bin.tar.gz" -C "$out" bin && rm -rf "$out/bin"
    local size
    size=$(du -sm "$out" | cut -f1)
    echo "gpu-check/: $count binaries, ${size} MiB"
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
    if [[ -f "$here/bin.tar.gz" ]]; then
        bin="$(mktemp -d)/bin"
        tar xzf "$here/bin.tar.gz" -C "$(dirname "$bin")"
    fi
    # Globals, not locals: the EXIT trap reads them after run has returned.
    report=$(mktemp)
    say() { echo "$*" | tee -a "$report"; }
    # Full logs: the tests' output and each example's, kept beside the summary.
    logs=$(mktemp -d)
    finish() {
        if [[ -n "${OUT:-}" ]]; then
            mkdir -p "$OUT/logs" && cp "$report" "$OUT/gpu-check.md"
            (cd "$logs" && tar czf "$OUT/logs/logs.tar.gz" .)
        fi
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
    say "## Tests (GPU tests required)"
    local failed=0
    for t in "$bin"/test-*; do
        local log
        log=$(mktemp)
        if TORCHLET_REQUIRE_GPU=1 timeout 240 "$t" --include-ignored --test-threads=4 >"$log" 2>&1; then
            say "- $(basename "$t"): $(grep -E '^test result' "$log" | tail -1)"
        else
            failed=1
            say "- $(basename "$t"): FAILED"
            sed -n '/^failures:$/,/^test result/p' "$log" | head -80 | sed 's/^/    /' | tee -a "$report"
        fi
        { echo "===== $(basename "$t")"; cat "$log"; } >>"$logs/tests.log"
        rm -f "$log"
    done

    say ""
    say "## Tutorial examples, cuda against the CPU (training figures: losses per epoch, weights, predictions)"
    for e in "$bin"/example-*; do
        local name
        name=$(basename "$e")
        # T5's million epochs are a tutorial's full length; 20 000 of them exercise the same code on both devices.
        local args=()
        [[ $name == example-linear_regression_three_ways ]] && args=(20000)
        (cd "$(mktemp -d)" && timeout 120 "$e" "${args[@]}" --device cpu >"$logs/$name.cpu.log" 2>&1) || true
        if (cd "$(mktemp -d)" && timeout 120 "$e" "${args[@]}" --device cuda >"$logs/$name.cuda.log" 2>&1); then
            local verdict
            verdict=$(python3 "$here/gpu_compare_examples.py" "$logs/$name.cpu.log" "$logs/$name.cuda.log") || failed=1
            say "- $name: $verdict"
        else
            failed=1
            say "- $name: FAILED on cuda"
            tail -8 "$logs/$name.cuda.log" | sed 's/^/    /' | tee -a "$report"
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
        sed -n '2,16p' "${BASH_SOURCE[0]}"
        exit 2
        ;;
esac
