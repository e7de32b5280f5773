#!/usr/bin/env bash
# What Railyard makes of real repositories it was not built on: per folder of the fidelity
# corpus (bench/fidelity.pins), the files read, resources, findings, and every error and
# skipped item by cause, so a silent drop or a new parse error shows as a number.
#
#   bench/fidelity.sh [CORPUS]          # default /work/corpus3, re-created when absent
#   OLD=/path/to/railyard bench/fidelity.sh   # also the change from another build
#
# A "compliant" must be earned: resources no guardrail sees, and errors that are not about
# the code, are what this is for. Nothing here is asserted; the figures go in bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus=${1:-${CORPUS:-/work/corpus3}}
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    PINS="$here/fidelity.pins" "$here/corpus.sh" "$corpus"
fi
(cd "$root" && cargo build --release --quiet)
new="$root/target/release/railyard"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for dir in "$corpus"/*/; do
    name=$(basename "$dir")
    "$new" check "$dir" --guardrails "$root/guardrails" --format json >"$out/$name.new" 2>/dev/null || true
    if [ -n "${OLD:-}" ]; then
        "$OLD" check "$dir" --guardrails "$root/guardrails" --format json >"$out/$name.old" 2>/dev/null || true
    fi
done
python3 - "$out" <<'PY'
import collections, json, os, re, sys
out = sys.argv[1]
def cause(message):
    # The message without its file-specific parts: a remote module's name, a path, a quote.
    m = re.sub(r"`[^`]*`", "`…`", message)
    m = re.sub(r"^skipped: [^:]*: ", "skipped: ", m)
    return m.split(";")[0][:90]
names = sorted(f[:-4] for f in os.listdir(out) if f.endswith(".new"))
print(f"{'folder':36} {'files':>6} {'resources':>9} {'findings':>8} {'errors':>6}  change (OLD)")
causes = collections.Counter()
for name in names:
    new = json.load(open(os.path.join(out, name + ".new")))
    s = new["summary"]
    change = ""
    old_path = os.path.join(out, name + ".old")
    if os.path.exists(old_path):
        o = json.load(open(old_path))["summary"]
        change = f"resources {s['resources'] - o['resources']:+d}, findings {s['findings'] - o['findings']:+d}, errors {s['errors'] - o['errors']:+d}"
    print(f"{name:36} {s['files']:>6} {s['resources']:>9} {s['findings']:>8} {s['errors']:>6}  {change}")
    for e in new["errors"]:
        causes[cause(e["message"])] += 1
print("\nerrors by cause, over the corpus:")
for c, n in causes.most_common():
    print(f"{n:>5}  {c}")
PY
