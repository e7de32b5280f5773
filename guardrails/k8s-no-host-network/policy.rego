# No host network (Checkov CKV_K8S_19).
package railyard.k8s_no_host_network

import data.lib.railyard

deny contains f if {
	some r in data.lib.railyard.workloads
	r.config.kind in data.lib.railyard.pod_controller_kinds
	railyard.truthy(railyard.get(railyard.pod_spec(r.config), "hostNetwork", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.hostNetwork", [railyard.pod_spec_path(r.config)]),
		"message": sprintf("%s: hostNetwork: true puts the pod on the node's network; remove it and expose the pod through a Service", [r.address]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.railyard.tf_k8s_workloads
	railyard.is_true(railyard.get(railyard.tf_pod_spec(r), "host_network", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: host_network = true puts the pod on the node's network; remove it", [r.address]),
	}
}
