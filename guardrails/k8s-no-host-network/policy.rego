# No host network (Checkov CKV_K8S_19).
package railyard.k8s_no_host_network

import data.lib.railyard

deny contains f if {
	some r in railyard.workloads
	r.config.kind in railyard.pod_controller_kinds
	railyard.truthy(railyard.get(railyard.pod_spec(r.config), "hostNetwork", false))
	f := {
		"resource": r.address,
		"message": sprintf("%s: hostNetwork: true puts the pod on the node's network; remove it and expose the pod through a Service", [r.address]),
	}
}
