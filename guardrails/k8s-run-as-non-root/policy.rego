# Non-root containers with Checkov CKV_K8S_23 semantics:
#  * pod runAsNonRoot true: fails if a container sets runAsNonRoot false without runAsUser >= 1;
#  * else pod runAsUser >= 1: fails if a container sets runAsUser < 1;
#  * else every container needs runAsNonRoot true or runAsUser >= 1.
# Main containers only; a workload without a pod spec fails.
package railyard.k8s_run_as_non_root

non_root(ctx) := "PASSED" if {
	v := data.lib.core.get(ctx, ["securityContext", "runAsNonRoot"], null)
	v != null
	data.lib.core.truthy(v)
}

non_root(ctx) := "FAILED" if {
	v := data.lib.core.get(ctx, ["securityContext", "runAsNonRoot"], null)
	v != null
	not data.lib.core.truthy(v)
}

non_root(ctx) := "ABSENT" if data.lib.core.get(ctx, ["securityContext", "runAsNonRoot"], null) == null

user(ctx) := "PASSED" if {
	u := data.lib.core.get(ctx, ["securityContext", "runAsUser"], null)
	is_number(u)
	u >= 1
}

user(ctx) := "FAILED" if {
	u := data.lib.core.get(ctx, ["securityContext", "runAsUser"], null)
	u != null
	not user_ok(u)
}

user(ctx) := "ABSENT" if data.lib.core.get(ctx, ["securityContext", "runAsUser"], null) == null

user_ok(u) if {
	is_number(u)
	u >= 1
}

spec_of(r) := s if {
	s := data.lib.kubernetes.pod_spec(r.config)
	is_object(s)
	count(s) > 0
}

root_container(spec, c) if {
	non_root(spec) == "PASSED"
	non_root(c) == "FAILED"
	user(c) != "PASSED"
}

root_container(spec, c) if {
	non_root(spec) != "PASSED"
	user(spec) == "PASSED"
	user(c) == "FAILED"
}

root_container(spec, c) if {
	non_root(spec) != "PASSED"
	user(spec) != "PASSED"
	non_root(c) != "PASSED"
	user(c) != "PASSED"
}

deny contains f if {
	some r in data.lib.kubernetes.pod_controllers
	r.config.kind in data.lib.kubernetes.pod_level_check_kinds
	spec := spec_of(r)
	names := {data.lib.kubernetes.container_name(c) | some c in data.lib.kubernetes.main_containers_of(spec); root_container(spec, c)}
	count(names) > 0
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container(s) %s may run as root; set securityContext.runAsNonRoot: true or runAsUser >= 1 (pod or container level)", [r.address, concat(", ", sort(names))]),
	}
}

deny contains f if {
	some r in data.lib.kubernetes.pod_controllers
	r.config.kind in data.lib.kubernetes.pod_level_check_kinds
	not spec_of(r)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no pod spec, so the containers cannot be shown to run as non-root; set securityContext.runAsNonRoot: true", [r.address]),
	}
}
