# Memory limits (Checkov CKV_K8S_13): every container and init container sets resources.limits.memory.
package railyard.k8s_memory_limits

deny contains f if {
	some e in data.lib.kubernetes.pod_containers
	r := e.resource
	# A `resources` that is neither absent nor a map cannot be judged (unknown_resources in
	# lib.kubernetes, written with builtins: this runs for every container).
	type_name(object.get(e.container, "resources", null)) in {"null", "object"}
	not data.lib.core.truthy(object.get(e.container, ["resources", "limits", "memory"], null))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.resources.limits.memory", [e.path]),
		"message": sprintf("%s: container %v has no memory limit; set resources.limits.memory", [r.address, e.name]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	some c in data.lib.kubernetes.terraform_containers(r)
	v := data.lib.kubernetes.terraform_container_resources(c, "limits", "memory")
	not data.lib.core.unknown(v)
	not data.lib.core.truthy(v)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v has no memory limit; set resources { limits = { memory = ... } }", [r.address, data.lib.kubernetes.container_name(c)]),
	}
}

deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	not data.lib.core.block(r.config, "spec")
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no spec, so no container can be shown to have a memory limit", [r.address]),
	}
}
