# No privileged containers (Checkov CKV_K8S_16): containers and init containers.
package railyard.k8s_no_privileged_containers

import data.lib.railyard

deny contains f if {
	some r in data.lib.railyard.workloads
	some e in railyard.container_entries(r.config)
	c := e.container
	railyard.is_true(railyard.get(c, ["securityContext", "privileged"], false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.securityContext.privileged", [e.path]),
		"message": sprintf("%s: container %v runs privileged; remove securityContext.privileged and add only the capabilities it needs", [r.address, railyard.container_name(c)]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.railyard.tf_k8s_workloads
	some c in railyard.tf_containers(r)
	sc := railyard.first_block(c, "security_context")
	railyard.is_true(object.get(sc, "privileged", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v runs privileged; remove security_context.privileged", [r.address, railyard.container_name(c)]),
	}
}
