#!/usr/bin/env bash
# The GitHub Action's "Run Railyard" step (action.yml), run here as the runner would (bash -e,
# GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) with the built binary on PATH. Called by .ci/run with
# RAILYARD_BIN and PYTHON (with PyYAML, to read action.yml). No network.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
: "${RAILYARD_BIN:?path of the built railyard binary}" "${PYTHON:=python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" && ln -s "$RAILYARD_BIN" "$tmp/bin/railyard"
"$PYTHON" -c 'import sys, yaml
steps = yaml.safe_load(open(sys.argv[1]))["runs"]["steps"]
print(next(s for s in steps if s.get("id") == "run")["run"])' "$root/action.yml" > "$tmp/step.sh"
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAILED: $1"; failed=$((failed + 1)); }

# step NAME COMMAND GUARDRAILS WORKLOAD FORMAT: runs the step in a fresh runner folder.
step() {
    local dir="$tmp/$1"
    mkdir -p "$dir"
    (cd "$root" && HOME="$dir" PATH="$tmp/bin:$PATH" RUNNER_TEMP="$dir" GITHUB_OUTPUT="$dir/output" \
        GITHUB_STEP_SUMMARY="$dir/summary" RAILYARD_CACHE_DIR="$dir/cache" COMMAND="$2" GUARDRAILS="$3" \
        WORKLOAD="$4" WORKLOAD_NAME="" FORMAT="$5" FAIL_ON=low ARGS="" SUMMARY=true \
        bash -e "$tmp/step.sh") >"$dir/log" 2>&1
}

step check check guardrails examples/payments-api sarif || true
if grep -qx "exit-code=1" "$tmp/check/output" && grep -q '"ruleId": "aws-s3-versioning"' "$tmp/check/railyard.sarif" \
    && grep -q "aws_s3_bucket.receipts" "$tmp/check/summary"; then
    ok "check: exit code 1 kept for the last step, SARIF written, Markdown summary written"
else
    bad "check"; cat "$tmp/check/log" "$tmp/check/output"
fi

step test test guardrails . table || true
if grep -qx "exit-code=0" "$tmp/test/output" && [ ! -s "$tmp/test/summary" ]; then
    ok "test: fixtures pass, no summary"
else
    bad "test"; cat "$tmp/test/log" "$tmp/test/output"
fi

if step typo chek guardrails . sarif; then
    bad "an unknown command is refused"; cat "$tmp/typo/log"
else
    grep -q "command must be check" "$tmp/typo/log" && ok "an unknown command is refused" || { bad "unknown command message"; cat "$tmp/typo/log"; }
fi

echo "action: $passed passed, $failed failed"
[ "$failed" = 0 ]
