# CPU limits (Checkov CKV_K8S_11): every container and init container sets resources.limits.cpu.
package railyard.k8s_cpu_limits

import data.lib.railyard

deny contains f if {
	some r in railyard.workloads
	some c in railyard.containers(r.config)
	res := object.get(c, "resources", null)
	not railyard.unknown_resources(res)
	not railyard.truthy(railyard.get(res, ["limits", "cpu"], null))
	f := {
		"resource": r.address,
		"message": sprintf("%s: container %v has no CPU limit; set resources.limits.cpu", [r.address, railyard.container_name(c)]),
	}
}
