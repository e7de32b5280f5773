# No host PID namespace (Checkov CKV_K8S_17).
package railyard.k8s_no_host_pid

deny contains f if {
	some p in data.lib.kubernetes.pods
	r := p.resource
	not r.config.kind in data.lib.kubernetes.pod_level_excluded_kinds
	is_object(p.spec)
	data.lib.core.truthy(object.get(p.spec, "hostPID", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.hostPID", [p.path]),
		"message": sprintf("%s: hostPID: true shares the node's process namespace; remove it (use kubectl debug to troubleshoot)", [r.address]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	data.lib.core.is_true(data.lib.core.get(data.lib.kubernetes.terraform_pod_spec(r), "host_pid", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: host_pid = true lets the pod see every process on the node; remove it", [r.address]),
	}
}
