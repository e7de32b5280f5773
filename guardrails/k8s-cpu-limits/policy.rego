# CPU limits (Checkov CKV_K8S_11): every container and init container sets resources.limits.cpu.
package railyard.k8s_cpu_limits

import data.lib.railyard

deny contains f if {
	some r in data.lib.railyard.workloads
	some e in railyard.container_entries(r.config)
	c := e.container
	res := object.get(c, "resources", null)
	not railyard.unknown_resources(res)
	not railyard.truthy(railyard.get(res, ["limits", "cpu"], null))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.resources.limits.cpu", [e.path]),
		"message": sprintf("%s: container %v has no CPU limit; set resources.limits.cpu", [r.address, railyard.container_name(c)]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.railyard.tf_k8s_workloads
	some c in railyard.tf_containers(r)
	v := railyard.tf_resource_value(c, "limits", "cpu")
	not railyard.unknown(v)
	not railyard.truthy(v)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v has no CPU limit; set resources { limits = { cpu = ... } }", [r.address, railyard.container_name(c)]),
	}
}

deny contains f if {
	some r in data.lib.railyard.tf_k8s_workloads
	not railyard.block(r.config, "spec")
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no spec, so no container can be shown to have a CPU limit", [r.address]),
	}
}
