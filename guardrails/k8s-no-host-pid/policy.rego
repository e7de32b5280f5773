# No host PID namespace (Checkov CKV_K8S_17).
package railyard.k8s_no_host_pid

import data.lib.railyard

deny contains f if {
	some r in railyard.workloads
	r.config.kind in railyard.pod_controller_kinds
	railyard.truthy(railyard.get(railyard.pod_spec(r.config), "hostPID", false))
	f := {
		"resource": r.address,
		"message": sprintf("%s: hostPID: true shares the node's process namespace; remove it (use kubectl debug to troubleshoot)", [r.address]),
	}
}
