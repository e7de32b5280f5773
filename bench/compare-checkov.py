#!/usr/bin/env python3
"""Railyard against Checkov: the same workload, the same checks, timed in one run.

Speed comparison (the default), one command from a fresh clone:

    python3 bench/compare-checkov.py

1. installs Checkov CHECKOV_VERSION from PyPI into bench/.venv-checkov (once; gitignored);
2. builds Railyard (`cargo build --release --bin railyard`; a no-op when up to date);
3. writes the workload with `railyard-fleet bench-workload` (tools/fleet, built once): the
   100-file, 819-resource Terraform workload of `cargo bench --bench check` (the same
   generator: S3 buckets with and without versioning, encryption, public access blocks and
   logging, security groups, RDS, EBS, IAM policies);
4. selects the same checks: every guardrail with `[equivalents] checkov = [...]` (copied with
   `guardrails/lib` into a temporary guardrails folder) for Railyard, exactly those Checkov ids
   (`--check`) for Checkov, with `--framework terraform`;
5. runs each tool once untimed (warm-up: page cache, Python byte-code), then --runs timed
   repetitions, alternating the tools; reports wall time and CPU time (user+sys of the child
   and its descendants) as median and best; checks the findings agree (failing resources per
   guardrail / Checkov id set) and prints the ratio and the machine.

Checkov runs offline: --skip-download, BC_SKIP_MAPPING=TRUE, CKV_SKIP_PACKAGE_UPDATE_CHECK=true,
CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false, no API key; --offline additionally runs both tools in a
new network namespace (`unshare -n`, needs root), so nothing can reach the network.

Accuracy comparison on a corpus of real-world code (one folder per source repository):

    python3 bench/compare-checkov.py --corpus /work/corpus [--json OUT] [--only FOLDER,...]

Matching is at resource level: a key is (guardrail, file relative to the folder, address).

* Railyard: every finding of `railyard check FOLDER --format json` (several findings on one
  resource, e.g. one per container, count once).
* Checkov: a resource fails a guardrail when any of the guardrail's Checkov ids fails it, and
  passes when at least one id evaluated it and none failed it. Resources Checkov does not report
  (its UNKNOWN results: unresolvable variables, unsupported types) are "not evaluated".

Address normalisation (both sides): module call prefixes (`module.x.`) and count/for_each
indices (`[0]`, `["a"]`) are dropped; the Terraform `data.` prefix is dropped (Checkov omits
it); provider blocks become `aws.default` / `aws.<alias>` as Checkov names them. CloudFormation
(`AWS::S3::Bucket.Logical`) and Kubernetes (`Kind.namespace.name`) addresses are the same in
both tools.

Counts per guardrail: TP (both fail), FP (Railyard only, Checkov evaluated and passed), FN
(Checkov only), NE (Railyard flags a resource Checkov did not evaluate: excluded from
precision, listed for review). Precision = TP/(TP+FP), recall = TP/(TP+FN).
Line check: for each TP, whether Railyard's finding line lies within Checkov's
file_line_range for the resource.

`--checkov-cache DIR` keeps Checkov's results per corpus folder and reuses them, so a re-run
after a guardrail change costs only Railyard's time. The corpus itself is re-created from pinned
commits by bench/corpus.sh (pins in bench/corpus.pins).

A second vendor's labelled cases (recall on Checkov's own unit tests):

    python3 bench/compare-checkov.py --checkov-tests CHECKOV_CLONE [--checkov-commit REV]

For every mapped id, the installed Checkov's check files name the check; its unit test in the
clone (`tests/<framework>/.../test_<Check>.py`, or a graph check's `expected.yaml`) labels
resources pass/fail: `passing_resources`/`failing_resources` sets, `pass:`/`fail:` lists,
inline `hcl2.loads` snippets in `test_failure*`/`test_success*` methods (one folder each), or
file names `*-FAILED*`/`*-PASSED*` when the test only counts results. Railyard runs on each test
folder with the guardrail(s) mapped to the id; recall = labelled-fail resources (files) it flags.
Labelled-fail resources in files Railyard reports as errors are listed apart, not counted.

Python 3.11+ standard library only (plus Checkov in its own virtual environment).
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict

CHECKOV_VERSION = "3.3.30"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "bench", ".venv-checkov")
FRAMEWORKS = "terraform,cloudformation,kubernetes"
# Everything Checkov would otherwise fetch or report: mapping/guidelines download, the PyPI
# version check, the SCA package scan. No API key is set, so nothing is uploaded either.
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "ANSI_COLORS_DISABLED": "1",
    "LOG_LEVEL": "WARNING",
}


def log(msg):
    sys.stdout.flush()
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Setup: Checkov in its own virtual environment, Railyard release build.

def ensure_checkov(path=None):
    if path:
        return path
    checkov = os.path.join(VENV, "bin", "checkov")
    py = os.path.join(VENV, "bin", "python")
    if os.path.exists(checkov):
        got = subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('checkov'))"],
                             capture_output=True, text=True).stdout.strip()
        if got == CHECKOV_VERSION:
            return checkov
        log(f"== {VENV} has checkov {got or '?'}, want {CHECKOV_VERSION}: reinstalling")
    if not os.path.exists(py):
        log(f"== creating {os.path.relpath(VENV)}")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    log(f"== pip install checkov=={CHECKOV_VERSION} (once; about a minute)")
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"checkov=={CHECKOV_VERSION}"], check=True)
    return checkov


def ensure_railyard(path=None):
    if path:
        return os.path.abspath(path)
    log("== cargo build --release --bin railyard")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "railyard"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "railyard")


# ---------------------------------------------------------------------------------------------
# The workload: the one generator, `railyard-fleet bench-workload` (tools/fleet), which
# `cargo bench --bench check` uses too, so both benchmarks check the same 100 files / 819
# resources.

def ensure_fleet(path=None):
    if path:
        return os.path.abspath(path)
    log("== cargo build -p railyard-fleet (the workload generator)")
    subprocess.run(["cargo", "build", "--quiet", "-p", "railyard-fleet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "debug", "railyard-fleet")


def generate(fleet, folder, files):
    """Writes the benchmark workload into folder; returns its number of resources."""
    out = subprocess.run([fleet, "bench-workload", "--out", folder, "--files", str(files)],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"resources=(\d+)", out)
    if not m:
        sys.exit(f"railyard-fleet bench-workload printed no resource count: {out!r}")
    return int(m.group(1))


# ---------------------------------------------------------------------------------------------
# The checks: guardrails with Checkov equivalents.

def load_equivalents(guardrails_dir):
    """guardrail id -> [checkov ids] for every guardrail that lists any."""
    eq = {}
    for name in sorted(os.listdir(guardrails_dir)):
        path = os.path.join(guardrails_dir, name, "guardrail.toml")
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            meta = tomllib.load(f)
        ids = meta.get("equivalents", {}).get("checkov", [])
        if ids:
            eq[name] = list(ids)
    return eq


def copy_guardrails(src, dst, names):
    """A guardrails folder with only `names` (and lib/): exceptions and fixtures are left out."""
    os.makedirs(dst)
    shutil.copytree(os.path.join(src, "lib"), os.path.join(dst, "lib"))
    for name in names:
        os.makedirs(os.path.join(dst, name))
        for f in ("guardrail.toml", "policy.rego"):
            shutil.copy(os.path.join(src, name, f), os.path.join(dst, name, f))


# ---------------------------------------------------------------------------------------------
# Running the tools.

MODULE_PREFIX = re.compile(r'^(module\.[A-Za-z0-9_\-]+(\[[^\]]*\])?\.)+')
INDEX = re.compile(r'\[[^\]]*\]')


def norm_address(addr):
    a = MODULE_PREFIX.sub("", addr)
    if a.startswith("data."):
        a = a[len("data."):]
    # Provider blocks: Railyard `provider.aws` / `provider.aws.west`, Checkov `aws.default` /
    # `aws.west`.
    if a.startswith("provider."):
        a = a[len("provider."):]
        if "." not in a:
            a += ".default"
    # Terraform addresses: drop count/for_each indices. Kubernetes/CloudFormation names never
    # contain brackets in practice.
    a = INDEX.sub("", a)
    return a


def norm_file(path, folder):
    p = path.replace("\\", "/")
    absf = os.path.abspath(folder).replace("\\", "/")
    if p.startswith(absf + "/"):
        p = p[len(absf) + 1:]
    p = p.lstrip("/")
    if p.startswith("./"):
        p = p[2:]
    return p


def timed(cmd, cwd=None, env=None, offline=False):
    """Runs cmd; returns (CompletedProcess, wall seconds, CPU seconds of the child and its
    descendants: user+sys from getrusage(RUSAGE_CHILDREN) deltas)."""
    if offline:
        cmd = ["unshare", "--net", "--"] + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def railyard_cmd(binary, guardrails, folder):
    return [binary, "check", folder, "--guardrails", guardrails, "--format", "json"]


def parse_railyard(proc, folder, what):
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(f"railyard failed on {what} (exit {proc.returncode}):\n{proc.stderr[-2000:]}\n")
        return None, {"error": proc.stderr[-2000:]}
    findings = {}
    for f in doc.get("findings", []):
        key = (f["guardrail"], norm_file(f.get("file", ""), folder), norm_address(f["resource"]))
        prev = findings.get(key)
        line = f.get("line")
        if prev is None or (line is not None and (prev["line"] is None or line < prev["line"])):
            findings[key] = {"line": line, "end_line": f.get("end_line"), "message": f.get("message", "")}
    return findings, doc.get("summary", {})


def checkov_cmd(checkov, ids, frameworks, quiet):
    cmd = [checkov, "-d", ".", "--framework", frameworks, "--check", ",".join(sorted(ids)),
           "-o", "json", "--compact", "--skip-download"]
    return cmd + (["--quiet"] if quiet else [])


def checkov_env():
    env = dict(os.environ)
    env.update(CHECKOV_ENV)
    for k in ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL"):
        env.pop(k, None)
    return env


def parse_checkov(proc, folder):
    out = proc.stdout.strip()
    if not out:
        return None
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        # Checkov may print a non-JSON line before the document.
        start = min([i for i in (out.find("{"), out.find("[")) if i >= 0] or [0])
        doc = json.loads(out[start:])
    reports = doc if isinstance(doc, list) else [doc]
    results = []
    for rep in reports:
        res = rep.get("results", {}) if isinstance(rep, dict) else {}
        for status, key in (("FAILED", "failed_checks"), ("PASSED", "passed_checks")):
            for c in res.get(key, []):
                results.append({
                    "status": status,
                    "check_id": c["check_id"],
                    "resource": c["resource"],
                    # run with cwd=folder and -d ., so file_path is "/rel/path"
                    "file": norm_file(c.get("file_path", ""), folder),
                    "lines": c.get("file_line_range") or [None, None],
                })
    return results


def checkov_verdicts(results, id_to_guardrails):
    """(guardrail, file, address) -> {failed, ids, lines, raw}: a resource fails a guardrail
    when any of its Checkov ids fails it."""
    ck = {}
    for r in results:
        for g in id_to_guardrails.get(r["check_id"], []):
            key = (g, r["file"], norm_address(r["resource"]))
            v = ck.setdefault(key, {"failed": False, "ids": set(), "lines": r["lines"], "raw": r["resource"]})
            v["ids"].add(r["check_id"] + ("!" if r["status"] == "FAILED" else ""))
            if r["status"] == "FAILED":
                v["failed"] = True
                v["lines"] = r["lines"]
    return ck


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "    -"


# ---------------------------------------------------------------------------------------------
# Speed mode.

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor() or "?"
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, {mem} RAM, {platform.system()} {platform.release()}, load average {load}"


def speed(args):
    railyard = ensure_railyard(args.railyard)
    checkov = ensure_checkov(args.checkov)
    src_guardrails = os.path.abspath(args.guardrails)
    eq = load_equivalents(src_guardrails)
    id_to_guardrails = defaultdict(list)
    for g, ids in eq.items():
        for i in ids:
            id_to_guardrails[i].append(g)
    ids = sorted(id_to_guardrails)
    railyard_version = subprocess.run([railyard, "--version"], capture_output=True, text=True).stdout.strip()

    work = args.keep or tempfile.mkdtemp(prefix="railyard-vs-checkov-")
    if args.keep and os.path.exists(work):
        shutil.rmtree(work)
    folder = os.path.join(work, "workload")
    guardrails = os.path.join(work, "guardrails")
    resources = generate(ensure_fleet(args.fleet), folder, args.files)
    copy_guardrails(src_guardrails, guardrails, sorted(eq))
    frameworks = "terraform"
    ry_cmd = railyard_cmd(railyard, guardrails, folder)
    ck_cmd = checkov_cmd(checkov, ids, frameworks, quiet=True)
    env = checkov_env()

    print(f"machine:   {machine()}")
    print(f"workload:  {args.files} Terraform files, {resources} resources (railyard-fleet bench-workload) in {folder}")
    print(f"checks:    {len(eq)} guardrails with Checkov equivalents = {len(ids)} Checkov ids, --framework {frameworks}")
    print(f"railyard:  {railyard_version} ({os.path.relpath(railyard, ROOT)})")
    print(f"checkov:   {CHECKOV_VERSION if not args.checkov else checkov} (--skip-download, offline env"
          + (", in its own network namespace" if args.offline else "") + ")")
    print(f"runs:      1 warm-up + {args.runs} timed per tool, alternating", flush=True)

    # Warm-up run of each; their outputs are compared.
    ry_proc, _, _ = timed(ry_cmd, offline=args.offline)
    ry, summary = parse_railyard(ry_proc, folder, "the workload")
    ck_proc, _, _ = timed(ck_cmd, cwd=folder, env=env, offline=args.offline)
    ck_results = parse_checkov(ck_proc, folder)
    if ry is None or ck_results is None:
        if ck_results is None:
            sys.stderr.write(f"checkov printed no JSON (exit {ck_proc.returncode}):\n{ck_proc.stderr[-3000:]}\n")
        return 2
    times = {"railyard": [], "checkov": []}
    for i in range(args.runs):
        for tool in ("railyard", "checkov"):
            if tool == "railyard":
                p, wall, cpu = timed(ry_cmd, offline=args.offline)
            else:
                p, wall, cpu = timed(ck_cmd, cwd=folder, env=env, offline=args.offline)
            if p.returncode not in (0, 1):
                sys.stderr.write(f"{tool} exited {p.returncode}:\n{p.stderr[-2000:]}\n")
                return 2
            times[tool].append((wall, cpu))
        log(f"   run {i + 1}/{args.runs}: railyard {times['railyard'][-1][0]:.3f} s, "
            f"checkov {times['checkov'][-1][0]:.2f} s")

    # Agreement: failing resources per guardrail.
    ck = checkov_verdicts(ck_results, id_to_guardrails)
    ry = {k: v for k, v in ry.items() if k[0] in eq}
    print()
    print("agreement (failing resources per guardrail):")
    print(f"  {'guardrail':36} {'checkov ids':34} {'railyard':>8} {'checkov':>8} {'both':>5}")
    diffs = []
    tot = [0, 0, 0]
    for g in sorted(eq):
        r = {k for k in ry if k[0] == g}
        c = {k for k, v in ck.items() if k[0] == g and v["failed"]}
        both = r & c
        tot[0] += len(r)
        tot[1] += len(c)
        tot[2] += len(both)
        mark = "" if r == c else "  <- differs"
        print(f"  {g:36} {','.join(eq[g])[:34]:34} {len(r):8} {len(c):8} {len(both):5}{mark}")
        for k in sorted(r - c):
            diffs.append(f"railyard only: {g} {k[1]} {k[2]}" + ("" if k in ck else " (checkov did not evaluate it)"))
        for k in sorted(c - r):
            diffs.append(f"checkov only:  {g} {k[1]} {k[2]} [{','.join(sorted(ck[k]['ids']))}]")
    print(f"  {'total':36} {'':34} {tot[0]:8} {tot[1]:8} {tot[2]:5}")
    if diffs:
        print(f"  {len(diffs)} disagreement(s):")
        for d in diffs[:20]:
            print("    " + d)
        if len(diffs) > 20:
            print(f"    ... and {len(diffs) - 20} more")
    else:
        print("  identical: the same failing resources for every guardrail")

    def stats(tool):
        walls = [w for w, _ in times[tool]]
        cpus = [c for _, c in times[tool]]
        return (statistics.median(walls), min(walls), statistics.median(cpus), min(cpus))

    r = stats("railyard")
    c = stats("checkov")
    print()
    print(f"timing ({args.runs} runs each, seconds):   median wall   best wall   median CPU   best CPU")
    for name, s in (("railyard", r), ("checkov", c)):
        print(f"  {name:33} {s[0]:11.3f} {s[1]:11.3f} {s[2]:12.3f} {s[3]:10.3f}")
    print(f"  {'checkov / railyard':33} {c[0] / r[0]:10.1f}x {c[1] / r[1]:10.1f}x {c[2] / r[2]:11.1f}x {c[3] / r[3]:9.1f}x")
    print()
    print(f"Railyard {r[0]:.3f} s vs Checkov {c[0]:.2f} s (median wall) -> {c[0] / r[0]:.0f}x faster "
          f"(best: {r[1]:.3f} s vs {c[1]:.2f} s -> {c[1] / r[1]:.0f}x; CPU time: {r[2]:.3f} s vs {c[2]:.2f} s -> {c[2] / r[2]:.0f}x)")
    if args.timings:
        # Where Railyard's time goes: its per-guardrail evaluation times (RAILYARD_TIMINGS).
        p, wall, cpu = timed(ry_cmd, env=dict(os.environ, RAILYARD_TIMINGS="1"), offline=args.offline)
        per = sorted(((float(m.group(2)), m.group(1)) for m in
                      re.finditer(r"^timing: (\S+) on \S+: ([0-9.]+) ms$", p.stderr, re.M)), reverse=True)
        print()
        print(f"railyard evaluation times (RAILYARD_TIMINGS=1, one run: {wall:.3f} s wall, {cpu:.3f} s CPU): "
              f"{sum(ms for ms, _ in per):.0f} ms over {len(per)} guardrails; slowest:")
        for ms, g in per[:8]:
            print(f"  {g:40} {ms:7.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "files": args.files, "resources": resources,
                       "guardrails": eq, "railyard": times["railyard"], "checkov": times["checkov"],
                       "disagreements": diffs}, f, indent=1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Real-repository speed mode (issue 14): per corpus folder, Railyard's whole library against
# Checkov's equivalent checks, and Railyard's floor.

FLOOR_ID = "floor-never-fires"
FLOOR_TOML = """title = "Benchmark floor: a guardrail that never fires"
severity = "low"
description = "Visits every resource of every kind and flags none: what `check` costs without the library."
remediation = "None: written by bench/compare-checkov.py."
"""
FLOOR_REGO = """package railyard.floor_never_fires

deny contains f if {
\tsome r in input.resources
\tr.type == "railyard-floor: no such type"
\tf := {"resource": r.address, "message": "never"}
}
"""
TIMING_LINE = re.compile(r"^timing: (.+?) on .+: ([0-9.]+) ms$", re.M)
TARGET_WALL, TARGET_CPU, TARGET_FLOOR = 100.0, 70.0, 3.0


def write_floor(dst):
    """A guardrails folder with one guardrail of every kind that never fires: starting the
    process, reading and parsing the files and one trivial evaluation, without the library."""
    os.makedirs(os.path.join(dst, FLOOR_ID))
    with open(os.path.join(dst, FLOOR_ID, "guardrail.toml"), "w") as f:
        f.write(FLOOR_TOML)
    with open(os.path.join(dst, FLOOR_ID, "policy.rego"), "w") as f:
        f.write(FLOOR_REGO)


def guardrail_times(stderr):
    """{label: ms} from one `RAILYARD_TIMINGS=1` run: guardrails, and the `(parse)` / `(link)` /
    `(convert)` steps of preparing the workload (summed when a label repeats)."""
    out = defaultdict(float)
    for m in TIMING_LINE.finditer(stderr):
        out[m.group(1)] += float(m.group(2))
    return out


def shown(path):
    """A path relative to the repository when it is inside it, else absolute."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def real(args):
    """One run over a corpus: per folder files, resources, Railyard (whole library) and Checkov
    (the equivalent checks) wall and CPU, ratios, Railyard's floor and the library's cost over
    it; then the guardrails' cost summed over the corpus (RAILYARD_TIMINGS)."""
    railyard = ensure_railyard(args.railyard)
    checkov = None if args.skip_checkov else ensure_checkov(args.checkov)
    guardrails = os.path.abspath(args.guardrails)
    eq = load_equivalents(guardrails)
    ids = sorted({i for v in eq.values() for i in v})
    env = checkov_env()
    folders = sorted(d for d in os.listdir(args.speed_corpus) if os.path.isdir(os.path.join(args.speed_corpus, d)))
    if args.only:
        wanted = set(args.only.split(","))
        folders = [f for f in folders if f in wanted]
    if not folders:
        sys.exit(f"no folders in {args.speed_corpus} (bench/corpus.sh re-creates the corpus)")
    work = tempfile.mkdtemp(prefix="railyard-floor-")
    floor = os.path.join(work, "guardrails")
    write_floor(floor)
    n_guardrails = sum(1 for d in os.listdir(guardrails) if os.path.isfile(os.path.join(guardrails, d, "policy.rego")))
    ck_runs = 0 if args.skip_checkov else min(args.checkov_runs, args.runs)
    railyard_version = subprocess.run([railyard, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine:   {machine()}")
    print(f"corpus:    {os.path.abspath(args.speed_corpus)}: {len(folders)} folders")
    print(f"railyard:  {railyard_version} ({railyard}), `check DIR --guardrails {shown(guardrails)} "
          f"--format json`: the whole library ({n_guardrails} guardrails)")
    print(f"floor:     the same binary with one guardrail that never fires ({FLOOR_ID}, every kind)")
    if checkov:
        print(f"checkov:   {CHECKOV_VERSION if not args.checkov else checkov}: {len(ids)} ids "
              f"(the {len(eq)} guardrails with equivalents), --framework {FRAMEWORKS} --quiet, offline env"
              + (", own network namespace" if args.offline else ""))
    print(f"runs:      per folder 1 warm-up each, then {args.runs} timed railyard/floor runs"
          + (f" and {ck_runs} checkov run(s)" if checkov else "") + ", alternating; medians; CPU = user+sys of the child",
          flush=True)

    ry_env = dict(os.environ)
    ry_env.pop("RAILYARD_TIMINGS", None)
    rows = []
    per_guardrail = defaultdict(float)
    for name in folders:
        folder = os.path.abspath(os.path.join(args.speed_corpus, name))
        ry_cmd = railyard_cmd(railyard, guardrails, folder)
        fl_cmd = railyard_cmd(railyard, floor, folder)
        ck_cmd = checkov_cmd(checkov, ids, FRAMEWORKS, quiet=True) if checkov else None
        # Warm-up (page cache, Python byte-code); Railyard's summary gives files and resources.
        proc, _, _ = timed(ry_cmd, env=ry_env, offline=args.offline)
        try:
            summary = json.loads(proc.stdout)["summary"]
        except (json.JSONDecodeError, KeyError):
            sys.exit(f"railyard failed on {folder} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        # The floor must have judged the folder (one guardrail) and found nothing, or it is no
        # floor of the same work.
        proc, _, _ = timed(fl_cmd, env=ry_env, offline=args.offline)
        try:
            fl_summary = json.loads(proc.stdout)["summary"]
        except (json.JSONDecodeError, KeyError):
            sys.exit(f"the floor failed on {folder} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        if fl_summary.get("guardrails") != 1 or fl_summary.get("findings") or \
                fl_summary.get("resources") != summary.get("resources"):
            sys.exit(f"the floor guardrail did not judge {folder} as expected: {fl_summary}")
        if ck_cmd:
            timed(ck_cmd, cwd=folder, env=env, offline=args.offline)
        t = {"railyard": [], "floor": [], "checkov": []}
        for i in range(args.runs):
            for tool, cmd in (("railyard", ry_cmd), ("floor", fl_cmd), ("checkov", ck_cmd)):
                if tool == "checkov" and (not cmd or i >= ck_runs):
                    continue
                kw = {"cwd": folder, "env": env} if tool == "checkov" else {"env": ry_env}
                p, wall, cpu = timed(cmd, offline=args.offline, **kw)
                # Railyard's exit 2 with a report: code it could not evaluate (a remote module
                # not vendored) was listed as errors, the rest judged; counted in the table.
                reported = tool != "checkov" and p.returncode == 2 and p.stdout.lstrip().startswith("{")
                if p.returncode not in (0, 1) and not reported:
                    sys.exit(f"{tool} exited {p.returncode} on {folder}:\n{p.stderr[-2000:]}")
                t[tool].append((wall, cpu))
        # Where the library's time goes: each guardrail timed on its own (RAILYARD_TIMINGS), the
        # fastest of a few runs (these are wall-clock times inside the process: other work on
        # the machine inflates them, so the least disturbed run counts).
        times = {}
        for _ in range(args.timing_runs):
            p, _, _ = timed(ry_cmd, env=dict(ry_env, RAILYARD_TIMINGS="1"), offline=args.offline)
            for g, ms in guardrail_times(p.stderr).items():
                times[g] = min(ms, times.get(g, ms))
        for g, ms in times.items():
            per_guardrail[g] += ms
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) if v else None
               for k, v in t.items()}
        rows.append({"folder": name, "files": summary.get("files"), "resources": summary.get("resources"),
                     "errors": summary.get("errors") or 0,
                     "railyard": med["railyard"], "floor": med["floor"], "checkov": med["checkov"],
                     "slowest": max(((ms, g) for g, ms in times.items() if not g.startswith("(")), default=(0, "-")),
                     "runs": t})
        log(f"   {name}: railyard {med['railyard'][0]:.3f} s, floor {med['floor'][0]:.3f} s"
            + (f", checkov {med['checkov'][0]:.1f} s" if med["checkov"] else ""))

    def x(a, b):
        return f"{a / b:.1f}x" if a and b else "-"

    def s(v, i, fmt):
        return format(v[i], fmt) + "s" if v else "-"

    print()
    hdr = (f"{'folder':22} {'files':>5} {'res':>5}  {'railyard wall':>13} {'CPU':>6}  {'checkov wall':>12} {'CPU':>6}"
           f"  {'ratio wall':>10} {'CPU':>6}  {'floor wall':>10} {'CPU':>6}  {'lib/floor wall':>14} {'CPU':>5}"
           f"  slowest guardrail; notes")
    print(hdr)
    tot = {"files": 0, "resources": 0, "railyard": [0, 0], "floor": [0, 0], "checkov": [0, 0]}
    over = []
    for r in rows:
        ry, fl, ck = r["railyard"], r["floor"], r["checkov"]
        tot["files"] += r["files"] or 0
        tot["resources"] += r["resources"] or 0
        for k in ("railyard", "floor", "checkov"):
            if r[k]:
                tot[k][0] += r[k][0]
                tot[k][1] += r[k][1]
        if ry[0] / fl[0] > TARGET_FLOOR or ry[1] / fl[1] > TARGET_FLOOR:
            over.append(r["folder"])
        ms, g = r["slowest"]
        note = f"; {r['errors']} not evaluated (exit 2)" if r["errors"] else ""
        print(f"{r['folder']:22} {r['files']:5} {r['resources']:5}  {ry[0]:12.3f}s {ry[1]:5.3f}s  "
              f"{s(ck, 0, '11.2f'):>12} {s(ck, 1, '5.2f'):>6}  {x(ck and ck[0], ry[0]):>10} {x(ck and ck[1], ry[1]):>6}  "
              f"{fl[0]:9.3f}s {fl[1]:5.3f}s  {x(ry[0], fl[0]):>14} {x(ry[1], fl[1]):>5}  {g} {ms:.1f} ms{note}")
    ry, fl, ck = tot["railyard"], tot["floor"], tot["checkov"]
    print(f"{'TOTAL':22} {tot['files']:5} {tot['resources']:5}  {ry[0]:12.3f}s {ry[1]:5.3f}s  "
          f"{s(ck if ck[0] else None, 0, '11.2f'):>12} {s(ck if ck[0] else None, 1, '5.2f'):>6}  "
          f"{x(ck[0], ry[0]):>10} {x(ck[1], ry[1]):>6}  {fl[0]:9.3f}s {fl[1]:5.3f}s  {x(ry[0], fl[0]):>14} {x(ry[1], fl[1]):>5}")
    print()
    print(f"targets (printed, not asserted): checkov/railyard summed >= {TARGET_WALL:.0f}x wall "
          f"(now {x(ck[0], ry[0])}), >= {TARGET_CPU:.0f}x CPU (now {x(ck[1], ry[1])}); library <= {TARGET_FLOOR:.0f}x "
          f"floor on every folder (over it, wall or CPU: {', '.join(over) if over else 'none'})")

    # Per guardrail, summed over the corpus: ms and µs per resource of the whole corpus.
    res = tot["resources"] or 1
    steps = {g: ms for g, ms in per_guardrail.items() if g.startswith("(")}
    guards = sorted(((ms, g) for g, ms in per_guardrail.items() if not g.startswith("(")), reverse=True)
    print()
    print(f"guardrail cost over the corpus (RAILYARD_TIMINGS=1, fastest of {args.timing_runs} runs per folder, each "
          f"guardrail evaluated on its own; {tot['resources']} resources): {sum(ms for ms, _ in guards):.1f} ms in "
          f"{len(guards)} guardrails; workload preparation "
          + ", ".join(f"{g} {ms:.1f} ms" for g, ms in sorted(steps.items())))
    print(f"  {'guardrail':40} {'ms':>8} {'us/resource':>12} {'share':>6}")
    total_ms = sum(ms for ms, _ in guards) or 1
    for ms, g in guards[:args.top]:
        print(f"  {g:40} {ms:8.1f} {1000 * ms / res:12.2f} {100 * ms / total_ms:5.1f}%")
    if len(guards) > args.top:
        rest = sum(ms for ms, _ in guards[args.top:])
        print(f"  {f'... {len(guards) - args.top} more':40} {rest:8.1f} {1000 * rest / res:12.2f} {100 * rest / total_ms:5.1f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "railyard": railyard_version, "checkov": CHECKOV_VERSION,
                       "runs": args.runs, "checkov_runs": ck_runs, "folders": rows,
                       "guardrail_ms": dict(per_guardrail), "resources": tot["resources"]}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Accuracy mode: a corpus of real-world code, one folder per source repository.

def accuracy(args):
    railyard = ensure_railyard(args.railyard)
    checkov = ensure_checkov(args.checkov)
    guardrails = os.path.abspath(args.guardrails)
    eq = load_equivalents(guardrails)
    id_to_guardrails = defaultdict(list)
    for g, ids in eq.items():
        for i in ids:
            id_to_guardrails[i].append(g)
    all_ids = sorted(id_to_guardrails)
    env = checkov_env()

    folders = sorted(d for d in os.listdir(args.corpus) if os.path.isdir(os.path.join(args.corpus, d)))
    if args.only:
        wanted = set(args.only.split(","))
        folders = [f for f in folders if f in wanted]

    stats = defaultdict(lambda: defaultdict(int))
    rows = []  # disagreements and matches, for --json and the listing
    t_ry = t_ck = 0.0
    line_in = line_total = 0
    per_folder = []
    for name in folders:
        folder = os.path.abspath(os.path.join(args.corpus, name))
        proc, ry_time, _ = timed(railyard_cmd(railyard, guardrails, folder), offline=args.offline)
        ry, summary = parse_railyard(proc, folder, folder)
        ry = ry or {}
        # no --quiet: it drops passed_checks, needed to tell FP from NE
        cache = os.path.join(args.checkov_cache, f"{name}.json") if args.checkov_cache else None
        if cache and os.path.exists(cache):
            # Checkov's results for this folder and these ids from an earlier run (Railyard-only
            # re-runs after a guardrail change take seconds instead of Checkov's minutes).
            with open(cache) as f:
                cached = json.load(f)
            if cached.get("ids") != all_ids:
                sys.exit(f"{cache} was made for other Checkov ids; remove it")
            ck_results, ck_time = cached["results"], cached["seconds"]
        else:
            proc, ck_time, _ = timed(checkov_cmd(checkov, all_ids, FRAMEWORKS, quiet=False), cwd=folder, env=env,
                                     offline=args.offline)
            ck_results = parse_checkov(proc, folder) or []
            if cache:
                os.makedirs(args.checkov_cache, exist_ok=True)
                with open(cache, "w") as f:
                    json.dump({"ids": all_ids, "seconds": ck_time, "results": ck_results}, f)
        t_ry += ry_time
        t_ck += ck_time
        ck = checkov_verdicts(ck_results, id_to_guardrails)
        ry = {k: v for k, v in ry.items() if k[0] in eq}
        per_folder.append({"folder": name, "railyard_s": round(ry_time, 3), "checkov_s": round(ck_time, 3),
                           "resources": summary.get("resources"), "files": summary.get("files"),
                           "errors": summary.get("errors")})
        keys = set(ry) | {k for k, v in ck.items() if v["failed"]}
        for key in sorted(keys):
            g = key[0]
            r_fail = key in ry
            c = ck.get(key)
            c_fail = bool(c and c["failed"])
            if r_fail and c_fail:
                kind = "TP"
                lo, hi = c["lines"]
                line = ry[key]["line"]
                line_total += 1
                if lo is not None and line is not None and lo <= line <= hi:
                    line_in += 1
                else:
                    rows.append({"folder": name, "kind": "LINE", "guardrail": g, "file": key[1], "resource": key[2],
                                 "railyard_line": line, "checkov_lines": [lo, hi]})
            elif r_fail and c is None:
                kind = "NE"
            elif r_fail:
                kind = "FP"
            else:
                kind = "FN"
            stats[g][kind] += 1
            if kind != "TP":
                rows.append({"folder": name, "kind": kind, "guardrail": g, "file": key[1], "resource": key[2],
                             "railyard": ry.get(key, {}).get("message"),
                             "checkov": sorted(c["ids"]) if c else None})
        for key, v in ck.items():
            if not v["failed"] and key not in ry:
                stats[key[0]]["TN"] += 1

    print(f"{'guardrail':40} {'TP':>4} {'FP':>4} {'FN':>4} {'NE':>4} {'TN':>4}  precision  recall")
    tot = defaultdict(int)
    for g in sorted(eq):
        s = stats[g]
        for k in ("TP", "FP", "FN", "NE", "TN"):
            tot[k] += s[k]
        print(f"{g:40} {s['TP']:4} {s['FP']:4} {s['FN']:4} {s['NE']:4} {s['TN']:4}  "
              f"{pct(s['TP'], s['TP'] + s['FP']):>9}  {pct(s['TP'], s['TP'] + s['FN']):>6}")
    print(f"{'OVERALL':40} {tot['TP']:4} {tot['FP']:4} {tot['FN']:4} {tot['NE']:4} {tot['TN']:4}  "
          f"{pct(tot['TP'], tot['TP'] + tot['FP']):>9}  {pct(tot['TP'], tot['TP'] + tot['FN']):>6}")
    print()
    print(f"finding line within Checkov's resource range: {line_in}/{line_total} ({pct(line_in, line_total).strip()})")
    ratio = (t_ck / t_ry) if t_ry else float("nan")
    print(f"wall time: railyard {t_ry:.1f}s, checkov {t_ck:.1f}s over {len(folders)} folders "
          f"(checkov/railyard = {ratio:.1f}x)")
    if not args.quiet:
        print()
        print("disagreements (FP: Railyard only; FN: Checkov only; NE: Checkov did not evaluate; LINE: line outside range)")
        for r in rows:
            if r["kind"] == "LINE":
                print(f"  LINE {r['guardrail']:34} {r['folder']}/{r['file']} {r['resource']} "
                      f"railyard line {r['railyard_line']} not in checkov {r['checkov_lines']}")
            else:
                print(f"  {r['kind']:4} {r['guardrail']:34} {r['folder']}/{r['file']} {r['resource']}"
                      + (f"  [checkov {','.join(r['checkov'])}]" if r["checkov"] else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"stats": {g: dict(s) for g, s in stats.items()}, "total": dict(tot),
                       "line_in_range": [line_in, line_total], "railyard_s": t_ry, "checkov_s": t_ck,
                       "folders": per_folder, "rows": rows}, f, indent=1)
    return 0


# ---------------------------------------------------------------------------------------------
# A second vendor's labelled cases: Checkov's own unit-test resources for the mapped ids.

FRAMEWORK_DIRS = ("terraform", "cloudformation", "kubernetes")
TEST_DIR_RE = re.compile(r"""(?:Path\(__file__\)\.parent\s*/\s*|current_dir\s*\+\s*|os\.path\.join\(\s*current_dir\s*,\s*)["']/?([^"']+)["']""")
SET_RE = r"{}\s*=\s*[\{{\[](.*?)[\}}\]]"
QUOTED = re.compile(r"""["']([^"']+)["']""")


def checkov_package(checkov):
    py = os.path.join(os.path.dirname(checkov), "python")
    out = subprocess.run([py, "-c", "import checkov, os; print(os.path.dirname(checkov.__file__))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def check_sources(pkg, ids):
    """id -> [(framework, stem, graph?, folder)]: the installed Checkov's check files defining the
    id, with their folder inside the package (`terraform/checks/resource/aws`)."""
    found = defaultdict(list)
    pats = {i: re.compile(r"""["']%s["']""" % re.escape(i)) for i in ids}
    for fw in FRAMEWORK_DIRS:
        for dirpath, _, files in os.walk(os.path.join(pkg, fw, "checks")):
            for fn in files:
                if not fn.endswith((".py", ".json", ".yaml")) or fn.startswith("__"):
                    continue
                with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for i, pat in pats.items():
                    if pat.search(text):
                        rel = os.path.relpath(dirpath, pkg).replace(os.sep, "/")
                        found[i].append((fw, os.path.splitext(fn)[0], "graph_checks" in dirpath, rel))
    return found


def git_out(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, text=True, check=True).stdout


INLINE_TEST = re.compile(r"def (test_\w+)\(self\)(.*?)(?=\n    def |\Z)", re.S)
INLINE_HCL = re.compile(r'hcl2\.loads\(\s*(?:r|f)?"""(.*?)"""', re.S)


def labelled_cases(gitdir, commit, tree, fw, stem, graph, rel):
    """(test folder in the checkov repository or None, {address: 'pass'|'fail'},
    {file: 'pass'|'fail'}, {file: HCL text}) from the test of one check, or None when the
    repository has no test for it. Tests that scan inline HCL (`hcl2.loads(...)` of a triple-quoted string in
    `test_failure` / `test_success`) give one file per snippet, labelled by the method name."""
    if graph:
        d = f"tests/terraform/graph/checks/resources/{stem}"
        if f"{d}/expected.yaml" not in tree:
            return None
        labels = {}
        key = None
        for line in git_out(gitdir, "show", f"{commit}:{d}/expected.yaml").splitlines():
            m = re.match(r"^(pass|fail)\s*:", line)
            if m:
                key = m.group(1)
            elif key and line.strip().startswith("-"):
                addr = line.strip()[1:].strip().strip("\"'")
                # a name in both lists (two files, one address) fails somewhere: a failing case
                if labels.get(addr) != "fail":
                    labels[addr] = key
        return d, labels, {}, {}
    # The test beside the check's own folder (aws, not alicloud), else any of that name.
    exact = f"tests/{rel}/test_{stem}.py"
    tests = [exact] if exact in tree else sorted(
        p for p in tree if p.startswith(f"tests/{fw}/") and p.endswith(f"/test_{stem}.py"))
    if not tests:
        return None
    text = git_out(gitdir, "show", f"{commit}:{tests[0]}")
    m = TEST_DIR_RE.search(text)
    if not m:
        inline, files = {}, {}
        for method, body in INLINE_TEST.findall(text):
            name = method.lower()
            want = "fail" if "fail" in name else "pass" if ("success" in name or "pass" in name) else None
            for n, hcl in enumerate(INLINE_HCL.findall(body)):
                if want:
                    # one folder per snippet: each is a configuration of its own
                    f = f"{method}_{n}/main.tf"
                    inline[f] = hcl
                    files[f] = want
        return (None, {}, files, inline) if files else None
    d = os.path.normpath(os.path.join(os.path.dirname(tests[0]), m.group(1))).replace("\\", "/")
    labels = {}
    for key, var in (("pass", "passing_resources"), ("fail", "failing_resources")):
        sm = re.search(SET_RE.format(var), text, re.S)
        if sm:
            for a in QUOTED.findall(sm.group(1)):
                labels[a] = key
    files = {}
    if not labels:
        # Tests that only count results name their files `...-FAILED.yaml` / `...-PASSED.yaml`.
        for p in tree:
            if p.startswith(d + "/"):
                base = os.path.basename(p).upper()
                if "FAILED" in base:
                    files[p[len(d) + 1:]] = "fail"
                elif "PASSED" in base:
                    files[p[len(d) + 1:]] = "pass"
    return d, labels, files, {}


def checkov_tests(args):
    """Recall on Checkov's labelled test resources: for every mapped id, the failing resources
    its unit test lists (or its `-FAILED` files, when the test only counts results): does the
    guardrail flag them?"""
    railyard = ensure_railyard(args.railyard)
    checkov = ensure_checkov(args.checkov)
    src = os.path.abspath(args.guardrails)
    eq = load_equivalents(src)
    id_to_guardrails = defaultdict(list)
    for g, ids in eq.items():
        for i in ids:
            id_to_guardrails[i].append(g)
    gitdir = args.checkov_tests
    if os.path.isdir(os.path.join(gitdir, ".git")):
        gitdir = os.path.join(gitdir, ".git")
    commit = git_out(gitdir, "rev-parse", args.checkov_commit).strip()
    tree = set(git_out(gitdir, "ls-tree", "-r", "--name-only", commit, "tests").splitlines())
    sources = check_sources(checkov_package(checkov), sorted(id_to_guardrails))
    work = tempfile.mkdtemp(prefix="railyard-checkov-tests-")
    per = defaultdict(lambda: defaultdict(int))
    misses, extra, untested = [], [], []
    for cid in sorted(id_to_guardrails):
        for fw, stem, graph, rel in sorted(set(sources.get(cid, []))):
            case = labelled_cases(gitdir, commit, tree, fw, stem, graph, rel)
            if case is None:
                untested.append(f"{cid} {fw}/{stem}")
                continue
            d, labels, files, inline = case
            folder = os.path.join(work, cid, fw, stem)
            os.makedirs(folder)
            targets = [folder]
            if d is None:
                target = folder
                for f, text in inline.items():
                    os.makedirs(os.path.dirname(os.path.join(folder, f)), exist_ok=True)
                    with open(os.path.join(folder, f), "w") as out:
                        out.write(text)
                targets = [os.path.join(folder, os.path.dirname(f)) for f in inline]
            else:
                arch = subprocess.run(["git", "--git-dir", gitdir, "archive", commit, d], capture_output=True,
                                      check=True)
                subprocess.run(["tar", "-x", "-C", folder], input=arch.stdout, check=True)
                target = os.path.join(folder, d)
                targets = [target]
            guardrails = os.path.join(work, cid, fw, stem + ".guardrails")
            copy_guardrails(src, guardrails, id_to_guardrails[cid])
            flagged_addr, flagged_files, errors, exit2 = set(), set(), [], 0
            for t in targets:
                proc = subprocess.run(railyard_cmd(railyard, guardrails, t), capture_output=True, text=True)
                ry, _ = parse_railyard(proc, t, f"{cid} {stem}")
                prefix = os.path.relpath(t, target).replace(os.sep, "/")
                prefix = "" if prefix == "." else prefix + "/"
                flagged_addr |= {norm_address(k[2]) for k in ry or {}}
                flagged_files |= {prefix + k[1] for k in ry or {}}
                exit2 += proc.returncode == 2
                try:
                    errors += [dict(e, file=prefix + e["file"]) for e in json.loads(proc.stdout).get("errors") or []
                               if isinstance(e, dict) and e.get("file")]
                except (json.JSONDecodeError, AttributeError):
                    pass
            # Files Railyard could not read (an error on stderr / in the report, exit 2): a
            # labelled resource inside one is "unreadable", not a miss.
            broken = {}
            for e in errors:
                p = os.path.join(target, e["file"])
                text = open(p, encoding="utf-8", errors="replace").read() if os.path.isfile(p) else ""
                broken[e["file"]] = (text, f"{e['file']}:{e.get('line')}: {e.get('message')}")

            def unreadable(addr):
                parts = norm_address(addr).split(".")
                for text, why in broken.values():
                    if len(parts) >= 2 and re.search(r'%s"?\s+"%s"' % (re.escape(parts[0]), re.escape(parts[1])), text):
                        return why
                return None

            row = per[cid]
            row["exit2"] += exit2
            for addr, want in sorted(labels.items()):
                hit = norm_address(addr) in flagged_addr
                if want == "fail" and not hit and unreadable(addr):
                    row["unreadable"] += 1
                    misses.append(f"{cid} {fw}/{stem}: {addr} (unreadable: {unreadable(addr)})")
                    continue
                row[want] += 1
                if want == "fail":
                    row["found"] += hit
                    if not hit:
                        misses.append(f"{cid} {fw}/{stem}: {addr}")
                elif hit:
                    row["pass_flagged"] += 1
                    extra.append(f"{cid} {fw}/{stem}: {addr} (labelled pass)")
            for f, want in sorted(files.items()):
                hit = f in flagged_files
                if want == "fail" and not hit and f in broken:
                    row["unreadable"] += 1
                    misses.append(f"{cid} {fw}/{stem}: file {f} (unreadable: {broken[f][1]})")
                    continue
                row[want] += 1
                if want == "fail":
                    row["found"] += hit
                    if not hit:
                        misses.append(f"{cid} {fw}/{stem}: file {f}")
                elif hit:
                    row["pass_flagged"] += 1
                    extra.append(f"{cid} {fw}/{stem}: file {f} (labelled pass)")
    print(f"Checkov's labelled test cases ({gitdir} at {commit[:12]}), per Checkov id:")
    print(f"{'id':12} {'guardrail':38} {'fail':>5} {'found':>5} {'recall':>7} {'pass':>5} {'flagged':>7}")
    tot = defaultdict(int)
    for cid in sorted(per):
        r = per[cid]
        for k in ("fail", "found", "pass", "pass_flagged", "exit2", "unreadable"):
            tot[k] += r[k]
        print(f"{cid:12} {','.join(id_to_guardrails[cid])[:38]:38} {r['fail']:5} {r['found']:5} "
              f"{pct(r['found'], r['fail']):>7} {r['pass']:5} {r['pass_flagged']:7}"
              + (f"  ({r['unreadable']} labelled fail in files Railyard rejects)" if r["unreadable"] else ""))
    print(f"{'OVERALL':51} {tot['fail']:5} {tot['found']:5} {pct(tot['found'], tot['fail']):>7} "
          f"{tot['pass']:5} {tot['pass_flagged']:7}")
    print("(pass/flagged: labelled pass for that id and flagged by its guardrail, which may fail them"
          " for another of its ids;")
    print(f" {tot['unreadable']} labelled-fail resources lie in files Railyard reports as errors (exit 2), not"
          " counted above)")
    for title, rows in (("missed (labelled fail, not flagged)", misses),
                        ("flagged although labelled pass", extra), ("no labelled test found", untested)):
        if rows and not args.quiet:
            print(f"\n{title}:")
            for r in rows:
                print("  " + r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"commit": commit, "per_id": {k: dict(v) for k, v in per.items()}, "total": dict(tot),
                       "missed": misses, "flagged_pass": extra, "untested": untested}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help="accuracy mode: compare findings on every folder of this corpus")
    ap.add_argument("--checkov-tests", metavar="GIT_DIR",
                    help="labelled-cases mode: a bridgecrewio/checkov clone (or git directory) whose tests/ "
                         "label resources pass/fail for the mapped ids; prints Railyard's recall on them")
    ap.add_argument("--checkov-commit", default="HEAD", help="labelled-cases mode: commit of --checkov-tests")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per tool (speed mode; default 5)")
    ap.add_argument("--files", type=int, default=100, help="Terraform files in the workload (speed mode; default 100)")
    ap.add_argument("--keep", metavar="DIR", help="write the workload and guardrails to DIR and keep them (speed mode)")
    ap.add_argument("--railyard", help="use this railyard binary instead of building target/release/railyard")
    ap.add_argument("--fleet", help="use this railyard-fleet binary (the workload generator) instead of building it")
    ap.add_argument("--checkov", default=os.environ.get("CHECKOV"),
                    help=f"use this checkov instead of installing {CHECKOV_VERSION} into bench/.venv-checkov")
    ap.add_argument("--guardrails", default=os.path.join(ROOT, "guardrails"), help="default: the repository's guardrails/")
    ap.add_argument("--offline", action="store_true",
                    help="run both tools in a new network namespace (unshare -n; root): no network at all")
    ap.add_argument("--timings", action="store_true",
                    help="speed mode: also print Railyard's per-guardrail evaluation times (RAILYARD_TIMINGS=1)")
    ap.add_argument("--json", help="write the figures (or, with --corpus, all keys and counts) to this file")
    ap.add_argument("--only", help="accuracy mode: comma-separated folder names")
    ap.add_argument("--checkov-cache", metavar="DIR",
                    help="accuracy mode: keep Checkov's results per folder in DIR and reuse them "
                         "(the corpus and the ids must not have changed)")
    ap.add_argument("--quiet", action="store_true", help="accuracy mode: do not list disagreements")
    ap.add_argument("--speed-corpus", metavar="DIR",
                    help="real-repository speed mode: per folder of DIR, Railyard's whole library against Checkov's "
                         "equivalent checks and Railyard's floor, then each guardrail's cost (bench/vs-checkov.sh)")
    ap.add_argument("--checkov-runs", type=int, default=1,
                    help="real-repository speed mode: timed Checkov runs per folder (default 1, at most --runs)")
    ap.add_argument("--skip-checkov", action="store_true",
                    help="real-repository speed mode: Railyard and its floor only (before/after a change)")
    ap.add_argument("--timing-runs", type=int, default=3,
                    help="real-repository speed mode: RAILYARD_TIMINGS runs per folder, fastest counts (default 3)")
    ap.add_argument("--top", type=int, default=12, help="real-repository speed mode: guardrails listed (default 12)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.checkov_tests:
        return checkov_tests(args)
    if args.speed_corpus:
        return real(args)
    return accuracy(args) if args.corpus else speed(args)


if __name__ == "__main__":
    sys.exit(main())
