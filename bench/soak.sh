#!/usr/bin/env bash
# Soak test of Railyard's state handling: for SECONDS (default 300), again and again on a fresh
# sandbox (a guardrails repo with two candidates, two local workloads):
#   1. start `railyard observe` 1-4 times and kill it with SIGKILL after a seeded random delay
#      (0-500 ms: during the first fetch into the cache, evaluation, ledger or promotion commits),
#      running `git fsck --strict` after each kill;
#   2. start 2-8 `railyard observe` processes at once on the same repository;
#   3. run `observe` once more, then check `git fsck --strict`, the ledger (exactly the expected
#      entries, every finding, none twice) and that the guardrail that breaks nobody was
#      promoted exactly once; with RAILYARD_LEDGER_KEY (set by default), `railyard ledger
#      verify` must accept the whole chain.
# It prints one line per round and a summary: rounds, runs, kills, fsck results, lost records.
# Any run that exits with an undocumented code, panics, or fails without saying "run again",
# and any fsck error, fails the soak. Not part of `cargo test` (the test is #[ignore]d).
#
# usage: bench/soak.sh [SECONDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export RAILYARD_SOAK_SECONDS="${1:-300}"
export RAILYARD_SOAK_SEED="${2:-24301}"
# Sealed, as in CI: every ledger commit must carry a seal that verifies (checked each round
# with `railyard ledger verify`). Set RAILYARD_LEDGER_KEY= (empty) to soak unsealed.
export RAILYARD_LEDGER_KEY="${RAILYARD_LEDGER_KEY-soak-ledger-key}"
exec cargo test --test state_cli -- --ignored --exact soak_concurrent_and_killed_runs --nocapture
