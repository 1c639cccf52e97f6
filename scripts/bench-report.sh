#!/usr/bin/env bash
# Benchmarks torchlet beside libtorch and prints markdown tables: speed (criterion, benches/*.rs) and peak
# memory (benches/peak_memory.rs). The report is also written to $TARGET/bench-report/report.md, and the
# raw criterion output to $TARGET/bench-report/criterion.log. Takes about 5 minutes on 2 cores.
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

# Build every bench binary first, then run the binaries: the report then describes one state of the
# sources, stamped here, even while others edit them.
executables() { # cargo bench ARGS --no-run, printing "target-name executable" per bench binary
    cargo bench "$@" --no-run --message-format=json-render-diagnostics |
        python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["name"], m["executable"])'
}
benches=(t5_step tutorial_fit small_models gemm linear_step elementwise)
declare -A exe solo
echo "==> building the benches (cargo bench ${features[*]} --no-run)" >&2
while read -r name path; do exe[$name]=$path; done < <(executables "${features[@]}" "${benches[@]/#/--bench=}" --bench=peak_memory)
if [[ $peak -eq 1 ]]; then
    while read -r name path; do solo[$name]=$path; done < <(executables --bench=peak_memory)
fi
for b in "${benches[@]}" peak_memory; do
    [[ -n "${exe[$b]:-}" ]] || { echo "building bench $b failed" >&2; exit 1; }
done
started=$(date -u '+%Y-%m-%d %H:%M UTC')
changes=$(git status --short -- src 2>/dev/null | wc -l)
revision="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ $changes -eq 0 ]] || echo " + $changes uncommitted change(s) in src/") at build time"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

: >"$out/criterion.log"
for b in "${benches[@]}"; do
    echo "==> $b ${filter[*]}  (log: $out/criterion.log)" >&2
    set +e
    "${exe[$b]}" --bench "${filter[@]}" 2>&1 | tee -a "$out/criterion.log" |
        grep --line-buffered -E '^[a-z0-9_]+/[a-z0-9_]+|^ +time:' >&2
    status=${PIPESTATUS[0]}
    set -e
    [[ $status -eq 0 ]] || { echo "bench $b failed; see $out/criterion.log" >&2; exit 1; }
done

{
    echo "# torchlet vs libtorch"
    echo
    echo "- when: $started; $revision"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs ($physical_cores physical cores); load average at start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- threads: matrixmultiply and libtorch intra-op = $MATMUL_NUM_THREADS; features: ${features[*]:-none (libtorch n/a)}"
    echo
    python3 scripts/bench_report.py "$CRITERION_HOME"
} >"$out/report.md"

if [[ $peak -eq 1 ]]; then
    echo "==> peak memory (torchlet alone, binary without libtorch)" >&2
    peak_solo=$("${solo[peak_memory]}" 2>>"$out/criterion.log")
    {
        echo
        echo "## Peak memory"
        echo
        echo "torchlet alone (bench binary built without the tch feature, so libtorch is not even loaded):"
        echo "$peak_solo"
    } >>"$out/report.md"
    if [[ ${#features[@]} -gt 0 ]]; then
        echo "==> peak memory (side by side, binary linked with libtorch)" >&2
        peak_both=$("${exe[peak_memory]}" 2>>"$out/criterion.log")
        {
            echo
            echo "Side by side (one binary linked with libtorch; compare the 'above idle' columns):"
            echo "$peak_both"
        } >>"$out/report.md"
    fi
fi

echo >&2
cat "$out/report.md"
