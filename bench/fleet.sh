#!/usr/bin/env bash
# Fleet benchmark for `railyard observe` and `railyard check`; prints figures.
#
#   bench/fleet.sh [WORKLOADS] [WORKDIR]      (defaults: 1000, a new temporary folder)
#   REAL=/work/corpus2 bench/fleet.sh 1000    (workloads copied from real repositories)
#
# With REAL=DIR the workloads are copies of the repositories REAL/<name> for each name in
# REAL_SOURCES (default: eight terraform-aws modules, Terraform labs, a CloudFormation
# collection and Kubernetes manifest sets), round-robin, each with one file changed
# (`railyard-fleet generate --sources`); without it, the synthetic fleet below.
#
# Builds the release binaries once (railyard, and railyard-fleet from tools/fleet), generates a
# deterministic fleet (railyard-fleet, seed 42, 20% noncompliant) with the whole bundled library as candidates, then times:
#   1. observe cold (empty cache: every workload cloned, parsed, evaluated; promotions made)
#   2. observe warm, nothing changed (no fetch transfer, no parse, no evaluation)
#   3. observe warm after a new commit in 1% of the workloads
#   4. observe warm after an approved exception (guardrail folder changed, results reused)
#   5. preview of develop against main over the same fleet (writes nothing)
#   6. observe the next day, nothing changed (what the ledger commit writes)
#   7. check on one 100-file Terraform workload
# with wall time and peak memory (/usr/bin/time -v, maximum resident set size).
set -euo pipefail
N=${1:-1000}
WORK=${2:-$(mktemp -d -t railyard-fleet-XXXXXX)}
NOW=2026-11-01
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (for peak memory)" >&2
  apt-get install -y time >/dev/null
fi

echo "== building release binaries (once)"
cargo build --release --workspace --bins 2>&1 | tail -1
BIN=$ROOT/target/release/railyard
FLEET=$ROOT/target/release/railyard-fleet

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)"
echo "== generating $N workloads in $WORK"
rm -rf "$WORK/fleet" "$WORK/cache"
if [ -n "${REAL:-}" ]; then
  REAL_SOURCES=${REAL_SOURCES:-cloudposse-rds cloudposse-s3-bucket tf-vpc tf-security-group cloudgoat widdix-cf-templates k8s-examples sock-shop}
  SOURCES=$(for s in $REAL_SOURCES; do printf '%s,' "$REAL/$s"; done)
  "$FLEET" generate --out "$WORK/fleet" --workloads "$N" --seed 42 --sources "${SOURCES%,}" --guardrails "$ROOT/guardrails"
else
  "$FLEET" generate --out "$WORK/fleet" --workloads "$N" --seed 42 --noncompliant-percent 20 --guardrails "$ROOT/guardrails"
fi

# run LABEL ARGS... : one timed railyard run; prints wall time, peak RSS and stats.
run() {
  local label=$1
  shift
  set +e
  /usr/bin/time -v -o "$WORK/time.txt" "$BIN" "$@" >"$WORK/out.json" 2>"$WORK/err.txt"
  local rc=$?
  set -e
  python3 - "$label" "$rc" "$WORK/time.txt" "$WORK/out.json" <<'PY'
import json, re, sys
label, rc, tfile, ofile = sys.argv[1:5]
t = open(tfile).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", t).group(1)) for k in ("User", "System"))
line = f"{label:<38} {secs:8.2f} s  cpu {cpu:8.2f} s  peak {rss:7.1f} MiB  exit {rc}"
try:
    r = json.load(open(ofile))
    s = r.get("stats")
    if isinstance(s, dict) and "workloads_parsed" in s:
        ws = r.get("workloads") if isinstance(r.get("workloads"), list) else []
        res = sum(w.get("resources", 0) for w in ws if isinstance(w, dict))
        line += (f"  parsed {s['workloads_parsed']:>5}  evaluations {s['evaluations']:>6}"
                 f"  cache hits {s['cache_hits']:>6}  jobs {s['jobs']}")
        if s["workloads_parsed"]:
            line += f"  ({res} resources in fleet; {res * s['workloads_parsed'] / max(1, s['workloads']) / secs:,.0f} parsed resources/s)"
    elif "findings" in r or "summary" in r:
        pass
except Exception as e:
    line += f"  (no JSON: {e})"
print(line)
PY
}

OBS=(observe --repo "$WORK/fleet/guardrails" --cache-dir "$WORK/cache" --no-notify --format json --now "$NOW")
echo "== observe ($N workloads x $(ls -d "$ROOT"/guardrails/*/ | grep -vc '/lib/$') guardrails)"
run "observe cold (empty cache)" "${OBS[@]}"
# (grep -c exits 1 when nothing was promoted, as in a fleet of real code with unknowns.)
{ grep -c '"action": "promoted"' "$WORK/out.json" || true; } | sed 's/^/   promoted: /'
run "observe warm, nothing changed" "${OBS[@]}"
run "observe warm, nothing changed, --jobs 1" "${OBS[@]}" --jobs 1
CHANGED=$(( (N + 99) / 100 ))
"$FLEET" change --out "$WORK/fleet" --count "$CHANGED" --seed 7 >/dev/null
run "observe warm, $CHANGED workloads changed" "${OBS[@]}"

# An approved exception changes a guardrail folder on develop: no re-evaluation needed.
python3 - "$WORK/fleet/guardrails" <<'PY'
import subprocess, sys
repo = sys.argv[1]
text = '[[exception]]\nworkload = "svc-0000"\nresource = "*"\nreason = "benchmark"\napproved_by = "security@example.com"\nexpires = 2027-06-01\n'
blob = subprocess.run(["git", "-C", repo, "hash-object", "-w", "--stdin"], input=text.encode(), capture_output=True, check=True).stdout.decode().strip()
env = {"GIT_INDEX_FILE": repo + "/.bench-index", "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin"}
run = lambda *a: subprocess.run(["git", "-C", repo, *a], env=env, capture_output=True, check=True).stdout.decode().strip()
run("read-tree", "develop")
run("update-index", "--add", "--cacheinfo", f"100644,{blob},guardrails/aws-s3-versioning/exceptions.toml")
tree = run("write-tree")
commit = run("commit-tree", tree, "-p", "develop", "-m", "approve an exception")
run("update-ref", "refs/heads/develop", commit)
PY
run "observe warm, an exception approved" "${OBS[@]}"
# What the held candidates on develop would do, over the same fleet and cache, writing nothing
# (issue 13: in the time of a warm observe).
run "preview develop vs main (warm cache)" preview --repo "$WORK/fleet/guardrails" --cache-dir "$WORK/cache" --format json --now "$NOW"

# The next day, nothing changed: only the ledger's head and the day's summary are written (an
# entry that recorded the day it was last observed made every workload's file change daily).
NEXT=(observe --repo "$WORK/fleet/guardrails" --cache-dir "$WORK/cache" --no-notify --format json --now 2026-11-02)
run "observe next day, nothing changed" "${NEXT[@]}"
git -C "$WORK/fleet/guardrails" diff --stat railyard/ledger~1 railyard/ledger | tail -1 | sed 's/^/   ledger commit:/'

echo "== check (one 100-file Terraform workload, whole library)"
rm -rf "$WORK/big"
"$FLEET" check-workload --out "$WORK/big" --files 100 >/dev/null
run "check, 100 files" check "$WORK/big" --guardrails "$ROOT/guardrails" --format json
python3 -c "import json,sys; r=json.load(open('$WORK/out.json')); print('   resources:', r.get('resources', r.get('summary', {}).get('resources', '?')))" 2>/dev/null || true
echo "== done (work folder: $WORK)"
