#!/usr/bin/env bash
# The pre-commit hooks (.pre-commit-hooks.yaml) with the real `pre-commit try-repo`, on temporary
# repositories: each hook must fail on a violation and pass once it is fixed. Called by .ci/run
# with RAILYARD_BIN (the built binary) and PRE_COMMIT (the tool). No network.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
: "${RAILYARD_BIN:?path of the built railyard binary}" "${PRE_COMMIT:=pre-commit}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" && ln -s "$RAILYARD_BIN" "$tmp/bin/railyard"
export PATH="$tmp/bin:$PATH" PRE_COMMIT_HOME="$tmp/pre-commit-home" RAILYARD_CACHE_DIR="$tmp/cache"
export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid
passed=0 failed=0

# expect OUTCOME NAME HOOK: runs the hook from this checkout in the current folder's repository.
expect() {
    local want=$1 name=$2 hook=$3 code=0
    "$PRE_COMMIT" try-repo "$root" "$hook" --all-files >"$tmp/out" 2>&1 || code=$?
    if { [ "$want" = pass ] && [ "$code" = 0 ]; } || { [ "$want" = fail ] && [ "$code" != 0 ] && grep -q "$4" "$tmp/out"; }; then
        echo "ok: $name"; passed=$((passed + 1))
    else
        echo "FAILED: $name (expected $want, pre-commit exited $code)"; cat "$tmp/out"; failed=$((failed + 1))
    fi
}

# A guardrails folder with one guardrail, outside the workload (check would read its fixtures).
mkdir -p "$tmp/guardrails"
cp -r "$root/guardrails/lib" "$root/guardrails/aws-s3-versioning" "$tmp/guardrails/"

# railyard-check on a workload repository.
git init -q -b main "$tmp/workload" && cd "$tmp/workload"
cat > main.tf <<'TF'
resource "aws_s3_bucket" "media" {
  bucket = "acme-media"
}
TF
git add main.tf && git commit -qm "a bucket without versioning"
RAILYARD_GUARDRAILS="$tmp/guardrails" expect fail "railyard-check fails on an unversioned bucket" railyard-check "aws_s3_bucket.media"
cat >> main.tf <<'TF'

resource "aws_s3_bucket_versioning" "media" {
  bucket = aws_s3_bucket.media.id
  versioning_configuration {
    status = "Enabled"
  }
}
TF
git add main.tf && git commit -qm "versioning"
RAILYARD_GUARDRAILS="$tmp/guardrails" expect pass "railyard-check passes once versioning is on" railyard-check

# railyard-test on a guardrails repository whose fixture expects a finding the policy never makes.
git init -q -b develop "$tmp/guardrails-repo" && cd "$tmp/guardrails-repo"
cp -r "$tmp/guardrails" guardrails
expected=guardrails/aws-s3-versioning/tests/fail/expected.toml
cp "$expected" "$tmp/expected.toml"
sed -i 's/"aws_s3_bucket.old"\]/"aws_s3_bucket.old", "aws_s3_bucket.good"]/' "$expected"
git add -A && git commit -qm "a wrong fixture expectation"
expect fail "railyard-test fails on a fixture the guardrail does not meet" railyard-test "aws_s3_bucket.good"
cp "$tmp/expected.toml" "$expected"
git add -A && git commit -qm "fixture fixed"
expect pass "railyard-test passes once the fixture is right" railyard-test

echo "precommit: $passed passed, $failed failed"
[ "$failed" = 0 ]
