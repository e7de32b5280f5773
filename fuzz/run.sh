#!/usr/bin/env bash
# Runs every fuzz target for a time budget, starting from the committed seeds.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Installs cargo-fuzz if missing, builds the targets (AddressSanitizer, release with debug
# assertions), runs each one for SECONDS_PER_TARGET (default 30) and prints a summary line per
# target. Exits non-zero if any target found a crash, a timeout or ran out of memory: the
# input is in fuzz/artifacts/<target>/ (see docs/fuzzing.md to turn it into a regression test).
#
# Works on the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the sanitizer flags cargo-fuzz uses).
# Environment:
#   FUZZ_JOBS=N         run N fuzzing processes per target in parallel (libFuzzer -fork=N)
#   FUZZ_SANITIZER=...  address (default) or none (faster builds and runs, fewer checks)
#   FUZZ_TIMEOUT=S      seconds one input may take before it counts as a hang (default 10)
#   FUZZ_RSS_MB=M       memory limit of the fuzzing process (default 2048)
#   FUZZ_SEED=N         libFuzzer's random seed; CI sets one so a run explores the same inputs
#                       as it did here (a slower machine runs a prefix of the same sequence)
set -euo pipefail

cd "$(dirname "$0")"
budget="${1:-30}"
shift || true
all_targets=(terraform_hcl terraform_json terraform_plan cloudformation kubernetes input_builder
    workloads_toml guardrail_toml exceptions_toml)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
timeout="${FUZZ_TIMEOUT:-10}"
rss="${FUZZ_RSS_MB:-2048}"

export RUSTC_BOOTSTRAP=1
toolchain=()
if command -v rustup >/dev/null && rustup toolchain list | grep -q '^stable'; then toolchain=(+stable); fi

if ! cargo "${toolchain[@]}" fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo "${toolchain[@]}" install cargo-fuzz --locked
fi

echo "== building fuzz targets (sanitizer: $sanitizer)"
start=$(date +%s)
cargo "${toolchain[@]}" fuzz build -s "$sanitizer"
echo "== built in $(($(date +%s) - start)) s"

dict_for() {
    case "$1" in
    terraform_hcl | input_builder) echo dicts/hcl.dict ;;
    terraform_json | terraform_plan) echo dicts/json.dict ;;
    cloudformation | kubernetes) echo dicts/yaml.dict ;;
    *_toml) echo dicts/toml.dict ;;
    esac
}

mkdir -p logs
summary=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    marker="logs/$t.started"
    touch "$marker"
    dict="$(dict_for "$t")"
    args=(-max_total_time="$budget" -timeout="$timeout" -rss_limit_mb="$rss" -print_final_stats=1
        -artifact_prefix="artifacts/$t/")
    [ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
    [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
    [ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=0)
    echo "== $t: ${budget}s"
    log="logs/$t.log"
    set +e
    cargo "${toolchain[@]}" fuzz run -s "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- "${args[@]}" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    if [ -z "$execs" ]; then execs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#'); fi
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    speed=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    crashes=$(find "artifacts/$t" -type f -newer "$marker" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    status=ok
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=FAILED
        failed=1
        echo "---- $t failed (exit $rc); last lines of $log:"
        tail -n 40 "$log"
    fi
    summary+=("$(printf '%-16s %-7s execs=%-10s exec/s=%-7s cov=%-6s artifacts=%s' \
        "$t" "$status" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$crashes")")
done

echo "== fuzz summary (${budget}s per target)"
printf '%s\n' "${summary[@]}"
bad=$(printf '%s\n' "${summary[@]}" | grep -c ' FAILED ' || true)
echo "fuzz: $((${#targets[@]} - bad)) passed, $bad failed"
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found problems: inputs in fuzz/artifacts/<target>/, see docs/fuzzing.md"
    exit 1
fi
