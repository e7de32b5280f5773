# CPU limits (Checkov CKV_K8S_11): every container and init container sets resources.limits.cpu.
package railyard.k8s_cpu_limits

deny contains f if {
	some e in data.lib.kubernetes.pod_containers
	r := e.resource
	# A `resources` that is neither absent nor a map cannot be judged (unknown_resources in
	# lib.kubernetes, written with builtins: this runs for every container).
	type_name(object.get(e.container, "resources", null)) in {"null", "object"}
	not data.lib.core.truthy(object.get(e.container, ["resources", "limits", "cpu"], null))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.resources.limits.cpu", [e.path]),
		"message": sprintf("%s: container %v has no CPU limit; set resources.limits.cpu", [r.address, e.name]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	some c in data.lib.kubernetes.terraform_containers(r)
	v := data.lib.kubernetes.terraform_container_resources(c, "limits", "cpu")
	not data.lib.core.unknown(v)
	not data.lib.core.truthy(v)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v has no CPU limit; set resources { limits = { cpu = ... } }", [r.address, data.lib.kubernetes.container_name(c)]),
	}
}

deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	not data.lib.core.block(r.config, "spec")
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no spec, so no container can be shown to have a CPU limit", [r.address]),
	}
}
