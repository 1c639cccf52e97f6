#!/usr/bin/env bash
# Benchmarks torchlet beside libtorch and prints markdown tables: speed (criterion, benches/*.rs) and peak
# memory (benches/peak_memory.rs). The report is also written to $TARGET/bench-report/report.md, and the
# raw criterion output to $TARGET/bench-report/criterion.log.
#
# Usage: scripts/bench-report.sh [--no-tch] [--no-peak] [CRITERION_FILTER]
#   --no-tch    torchlet only (libtorch columns read n/a); the default when libtorch is not set up
#   --no-peak   skip the peak-memory tables
#   CRITERION_FILTER   a regex over benchmark ids, e.g. 't5_|gemm_f32'
#
# Threads: matrixmultiply (torchlet's GEMM) and libtorch both get MATMUL_NUM_THREADS threads, by default
# the number of physical cores (matrixmultiply's own default; it caps at 4, and so does the bench for
# libtorch). torchlet's other kernels run as the library runs them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

features=(--features tch)
peak=1
filter=()
for arg in "$@"; do
    case "$arg" in
        --no-tch) features=() ;;
        --no-peak) peak=0 ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) filter+=("$arg") ;;
    esac
done
if [[ ${#features[@]} -gt 0 && -z "${LIBTORCH:-}" && ! -f .libtorch/lib/libtorch_cpu.so ]]; then
    echo "libtorch is not set up (scripts/setup-libtorch.sh): benchmarking torchlet only" >&2
    features=()
fi

physical_cores=$(lscpu -p=core,socket 2>/dev/null | grep -v '^#' | sort -u | wc -l)
[[ $physical_cores -gt 0 ]] || physical_cores=$(nproc)
export MATMUL_NUM_THREADS="${MATMUL_NUM_THREADS:-$physical_cores}"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out="$target_dir/bench-report"
mkdir -p "$out"
export CRITERION_HOME="$out/criterion"
rm -rf "$CRITERION_HOME"

benches=(--bench t5_step --bench tutorial_fit --bench gemm --bench linear_step --bench elementwise)
echo "==> cargo bench ${features[*]} ${benches[*]} -- ${filter[*]}  (log: $out/criterion.log)" >&2
set +e
cargo bench "${features[@]}" "${benches[@]}" -- "${filter[@]}" 2>&1 | tee "$out/criterion.log" |
    grep --line-buffered -E '^[a-z0-9_]+/[a-z0-9_]+|^ +time:' >&2
status=${PIPESTATUS[0]}
set -e
[[ $status -eq 0 ]] || { echo "cargo bench failed; see $out/criterion.log" >&2; exit 1; }

{
    echo "# torchlet vs libtorch"
    echo
    changes=$(git status --short -- src 2>/dev/null | wc -l)
    echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ $changes -eq 0 ]] || echo " + $changes uncommitted change(s) in src/")"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs ($physical_cores physical cores), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- threads: matrixmultiply and libtorch intra-op = $MATMUL_NUM_THREADS; features: ${features[*]:-none (libtorch n/a)}"
    echo
    python3 scripts/bench_report.py "$CRITERION_HOME"
} >"$out/report.md"

if [[ $peak -eq 1 ]]; then
    echo "==> peak memory (torchlet alone, binary without libtorch)" >&2
    peak_solo=$(cargo bench --bench peak_memory 2>>"$out/criterion.log")
    {
        echo
        echo "## Peak memory"
        echo
        echo "torchlet alone (bench binary built without the tch feature, so libtorch is not even loaded):"
        echo "$peak_solo"
    } >>"$out/report.md"
    if [[ ${#features[@]} -gt 0 ]]; then
        echo "==> peak memory (side by side, binary linked with libtorch)" >&2
        peak_both=$(cargo bench "${features[@]}" --bench peak_memory 2>>"$out/criterion.log")
        {
            echo
            echo "Side by side (one binary linked with libtorch; compare the 'above idle' columns):"
            echo "$peak_both"
        } >>"$out/report.md"
    fi
fi

echo >&2
cat "$out/report.md"
