"""Prints action.yml's composite steps as a workflow, so that actionlint (which reads workflows,
not action metadata) checks their expressions, contexts and shell scripts (with shellcheck)."""

import sys

import yaml

action = yaml.safe_load(open(sys.argv[1] if len(sys.argv) > 1 else "action.yml"))
assert action["runs"]["using"] == "composite", "action.yml must be a composite action"
workflow = {
    "name": action["name"],
    # The action's inputs become the workflow's, so `inputs.*` expressions are checked.
    "on": {
        "workflow_dispatch": {
            "inputs": {
                name: {"description": spec.get("description", name), "default": spec.get("default", "")}
                for name, spec in action.get("inputs", {}).items()
            }
        }
    },
    "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
}
yaml.safe_dump(workflow, sys.stdout, sort_keys=False, width=1000)
