"""Checks GitLab CI files offline: they parse as YAML, every `extends` names a job of the files
(given together, as `include:` would merge them), and each job's scripts (as the job would run
them, before_script + script, and after_script) pass shellcheck. GitLab's own linter needs a
GitLab server."""

import subprocess
import sys

import yaml

path = " + ".join(sys.argv[1:])
jobs = {}
for file in sys.argv[1:]:
    doc = yaml.safe_load(open(file))
    jobs.update({k: v for k, v in doc.items() if isinstance(v, dict) and k not in ("variables", "default", "workflow")})
errors = []


def resolved(name, seen=()):
    """The job with its `extends` chain merged (GitLab's deep merge, enough for scripts)."""
    if name in seen:
        errors.append(f"{path}: `{name}` extends itself")
        return {}
    job = jobs.get(name)
    if job is None:
        errors.append(f"{path}: `extends: {name}` names no job of this file")
        return {}
    merged = {}
    parents = job.get("extends", [])
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(resolved(parent, seen + (name,)))
    merged.update(job)
    return merged


for name in jobs:
    job = resolved(name)
    for part in (job.get("before_script", []) + job.get("script", []), job.get("after_script", [])):
        if not part:
            continue
        script = "\n".join(part) + "\n"
        run = subprocess.run(
            ["shellcheck", "--shell=bash", "--format=gcc", "-"], input=script, text=True, capture_output=True
        )
        if run.returncode != 0:
            errors.append(f"{path}: job `{name}`:\n{run.stdout.replace('-:', '  line ')}")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
