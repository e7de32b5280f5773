# Non-root containers with Checkov CKV_K8S_23 semantics:
#  * pod runAsNonRoot true: fails if a container sets runAsNonRoot false without runAsUser >= 1;
#  * else pod runAsUser >= 1: fails if a container sets runAsUser < 1;
#  * else every container needs runAsNonRoot true or runAsUser >= 1.
# Main containers only; a workload without a pod spec fails.
package railyard.k8s_run_as_non_root

# `securityContext.runAsNonRoot` of a pod spec or container: "PASSED", "FAILED" or "ABSENT".
# (One definition with `else` each, and each container's states computed once in `deny`:
# regorus evaluates every definition of a function on each call, and the three-way judgement
# below had called these twelve times per container, which made this guardrail the costliest
# of the library on manifest sets.)
non_root(ctx) := "ABSENT" if {
	object.get(ctx, ["securityContext", "runAsNonRoot"], null) == null
} else := "PASSED" if {
	data.lib.core.truthy(object.get(ctx, ["securityContext", "runAsNonRoot"], null))
} else := "FAILED"

# `securityContext.runAsUser`: "PASSED" (a number >= 1), "FAILED" (any other value), "ABSENT".
user(ctx) := "ABSENT" if {
	object.get(ctx, ["securityContext", "runAsUser"], null) == null
} else := "PASSED" if {
	u := object.get(ctx, ["securityContext", "runAsUser"], null)
	is_number(u)
	u >= 1
} else := "FAILED"

# The pod spec of an entry of `data.lib.kubernetes.pods`, when it is a map with members.
spec_of(p) := p.spec if {
	is_object(p.spec)
	count(p.spec) > 0
}

# Whether a container with states (non_root, user) may run as root in a pod spec with states
# (pod_non_root, pod_user).
# (One definition with `else`: the three cases exclude each other by the pod's states.)
root_container(pod_non_root, pod_user, non_root, user) if {
	pod_non_root == "PASSED"
	non_root == "FAILED"
	user != "PASSED"
} else := true if {
	pod_non_root != "PASSED"
	pod_user == "PASSED"
	user == "FAILED"
} else := true if {
	pod_non_root != "PASSED"
	pod_user != "PASSED"
	non_root != "PASSED"
	user != "PASSED"
}

deny contains f if {
	some p in data.lib.kubernetes.pods
	r := p.resource
	not r.config.kind in data.lib.kubernetes.pod_level_excluded_kinds
	spec := spec_of(p)
	pod_non_root := non_root(spec)
	pod_user := user(spec)
	names := {object.get(c, "name", "<unnamed>") |
		some c in data.lib.core.as_list(object.get(spec, "containers", null))
		is_object(c)
		root_container(pod_non_root, pod_user, non_root(c), user(c))
	}
	count(names) > 0
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container(s) %s may run as root; set securityContext.runAsNonRoot: true or runAsUser >= 1 (pod or container level)", [r.address, concat(", ", sort(names))]),
	}
}

deny contains f if {
	some p in data.lib.kubernetes.pods
	r := p.resource
	not r.config.kind in data.lib.kubernetes.pod_level_excluded_kinds
	not spec_of(p)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no pod spec, so the containers cannot be shown to run as non-root; set securityContext.runAsNonRoot: true", [r.address]),
	}
}
