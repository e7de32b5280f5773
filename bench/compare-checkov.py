#!/usr/bin/env python3
"""Compare Railyard's guardrails with Checkov on a corpus of real-world infrastructure code.

Usage:
    bench/compare-checkov.py CORPUS RAILYARD_BIN GUARDRAILS_DIR [--checkov PATH] [--json OUT]
                             [--only FOLDER,...] [--quiet]

CORPUS holds one folder per source repository; each folder is checked as one workload by both
tools. Only guardrails with `[equivalents] checkov = [...]` take part, and Checkov runs with
exactly those ids. Python 3.11+ standard library only.

Matching is at resource level: a key is (guardrail, file relative to the folder, address).

* Railyard: every finding of `railyard check FOLDER --format json` (several findings on one
  resource, e.g. one per container, count once).
* Checkov: a resource fails a guardrail when any of the guardrail's Checkov ids fails it, and
  passes when at least one id evaluated it and none failed it. Resources Checkov does not report
  (its UNKNOWN results: unresolvable variables, unsupported types) are "not evaluated".

Address normalisation (both sides): module call prefixes (`module.x.`) and count/for_each
indices (`[0]`, `["a"]`) are dropped; the Terraform `data.` prefix is dropped (Checkov omits
it); provider blocks become `aws.default` / `aws.<alias>` as Checkov names them. CloudFormation (`AWS::S3::Bucket.Logical`) and Kubernetes (`Kind.namespace.name`) addresses
are the same in both tools.

Counts per guardrail: TP (both fail), FP (Railyard only, Checkov evaluated and passed), FN
(Checkov only), NE (Railyard flags a resource Checkov did not evaluate: excluded from
precision, listed for review). Precision = TP/(TP+FP), recall = TP/(TP+FN).
Line check: for each TP, whether Railyard's finding line lies within Checkov's
file_line_range for the resource.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections import defaultdict

FRAMEWORKS = "terraform,cloudformation,kubernetes"


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


def run_railyard(binary, guardrails, folder):
    t0 = time.monotonic()
    proc = subprocess.run(
        [binary, "check", folder, "--guardrails", guardrails, "--format", "json"],
        capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(f"railyard failed on {folder} (exit {proc.returncode}):\n{proc.stderr[-2000:]}\n")
        return {}, elapsed, {"error": proc.stderr[-2000:]}
    findings = {}
    for f in doc.get("findings", []):
        key = (f["guardrail"], norm_file(f.get("file", ""), folder), norm_address(f["resource"]))
        prev = findings.get(key)
        line = f.get("line")
        if prev is None or (line is not None and (prev["line"] is None or line < prev["line"])):
            findings[key] = {"line": line, "end_line": f.get("end_line"), "message": f.get("message", "")}
    return findings, elapsed, doc.get("summary", {})


def run_checkov(checkov, folder, ids):
    t0 = time.monotonic()
    proc = subprocess.run(
        [checkov, "-d", ".", "--framework", FRAMEWORKS, "--check", ",".join(sorted(ids)),
         "-o", "json", "--compact"],  # no --quiet: it drops passed_checks
        capture_output=True, text=True, cwd=folder)
    elapsed = time.monotonic() - t0
    out = proc.stdout.strip()
    if not out:
        return [], elapsed
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
    return results, elapsed


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "    -"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("railyard")
    ap.add_argument("guardrails")
    ap.add_argument("--checkov", default=os.environ.get("CHECKOV", "/work/venv-checkov/bin/checkov"))
    ap.add_argument("--json", help="write all keys and counts to this file")
    ap.add_argument("--only", help="comma-separated folder names")
    ap.add_argument("--quiet", action="store_true", help="do not list disagreements")
    args = ap.parse_args()

    railyard = os.path.abspath(args.railyard)
    guardrails = os.path.abspath(args.guardrails)
    eq = load_equivalents(guardrails)
    id_to_guardrails = defaultdict(list)
    for g, ids in eq.items():
        for i in ids:
            id_to_guardrails[i].append(g)
    all_ids = sorted(id_to_guardrails)

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
        ry, ry_time, summary = run_railyard(railyard, guardrails, folder)
        ck_results, ck_time = run_checkov(args.checkov, folder, all_ids)
        t_ry += ry_time
        t_ck += ck_time
        # Checkov verdict per key.
        ck = {}
        for r in ck_results:
            for g in id_to_guardrails.get(r["check_id"], []):
                key = (g, r["file"], norm_address(r["resource"]))
                v = ck.setdefault(key, {"failed": False, "ids": set(), "lines": r["lines"], "raw": r["resource"]})
                v["ids"].add(r["check_id"] + ("!" if r["status"] == "FAILED" else ""))
                if r["status"] == "FAILED":
                    v["failed"] = True
                    v["lines"] = r["lines"]
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


if __name__ == "__main__":
    main()
