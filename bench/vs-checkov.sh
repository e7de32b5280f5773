#!/usr/bin/env bash
# Railyard against Checkov on real repositories, one command (issue 14):
#
#   bench/vs-checkov.sh [CORPUS] [compare-checkov.py options...]
#
# Per folder of CORPUS (default /work/corpus2; re-created from bench/corpus.pins by
# bench/corpus.sh when missing): files, resources, `railyard check` with the whole bundled
# library and Checkov 3.3.30 with the equivalent checks (wall and CPU, ratios), Railyard's floor
# (one guardrail that never fires) and the library's cost over it; totals and the issue's
# targets; then each guardrail's cost (ms, µs per resource) summed over the corpus.
# Builds target/release/railyard and installs Checkov into bench/.venv-checkov when needed.
# Useful options: --runs N (default 5), --checkov-runs N (default 1), --skip-checkov,
# --only a,b, --railyard BIN, --json OUT. See bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=/work/corpus2
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then corpus=$1; shift; fi
[ -d "$corpus" ] || "$here/corpus.sh" "$corpus"
exec python3 "$here/compare-checkov.py" --speed-corpus "$corpus" "$@"
