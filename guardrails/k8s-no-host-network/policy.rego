# No host network (Checkov CKV_K8S_19).
package railyard.k8s_no_host_network

deny contains f if {
	some p in data.lib.kubernetes.pods
	r := p.resource
	not r.config.kind in data.lib.kubernetes.pod_level_excluded_kinds
	is_object(p.spec)
	data.lib.core.truthy(object.get(p.spec, "hostNetwork", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"field": sprintf("%s.hostNetwork", [p.path]),
		"message": sprintf("%s: hostNetwork: true puts the pod on the node's network; remove it and expose the pod through a Service", [r.address]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms).
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	data.lib.core.is_true(data.lib.core.get(data.lib.kubernetes.terraform_pod_spec(r), "host_network", false))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: host_network = true puts the pod on the node's network; remove it", [r.address]),
	}
}
