# No privileged containers (Checkov CKV_K8S_16): containers and init containers.
package railyard.k8s_no_privileged_containers

deny contains f if {
	some e in data.lib.kubernetes.pod_containers
	r := e.resource
	data.lib.core.is_true(object.get(e.container, ["securityContext", "privileged"], false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.securityContext.privileged", [e.path]),
		"message": sprintf("%s: container %v runs privileged; remove securityContext.privileged and add only the capabilities it needs", [r.address, e.name]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	some c in data.lib.kubernetes.terraform_containers(r)
	sc := data.lib.core.first_block(c, "security_context")
	data.lib.core.is_true(object.get(sc, "privileged", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v runs privileged; remove security_context.privileged", [r.address, data.lib.kubernetes.container_name(c)]),
	}
}
