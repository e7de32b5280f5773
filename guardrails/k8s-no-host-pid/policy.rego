# No host PID namespace (Checkov CKV_K8S_17).
package railyard.k8s_no_host_pid

import data.lib.railyard

deny contains f if {
	some r in data.lib.railyard.workloads
	r.config.kind in data.lib.railyard.pod_controller_kinds
	railyard.truthy(railyard.get(railyard.pod_spec(r.config), "hostPID", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.hostPID", [railyard.pod_spec_path(r.config)]),
		"message": sprintf("%s: hostPID: true shares the node's process namespace; remove it (use kubectl debug to troubleshoot)", [r.address]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.railyard.tf_k8s_workloads
	railyard.is_true(railyard.get(railyard.tf_pod_spec(r), "host_pid", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: host_pid = true lets the pod see every process on the node; remove it", [r.address]),
	}
}
