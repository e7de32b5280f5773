# Kubernetes helpers: pod controllers (the manifests that carry a pod spec: Pod, Deployment,
# CronJob, ...) and their containers, in manifests and in Terraform's kubernetes provider.
# Built on `lib.core`; policies call them by full path (`data.lib.kubernetes.pod_controllers`).
# This package defines no `deny` rule.
package lib.kubernetes

# ---------------------------------------------------------------------------------------------
# Pod controllers in manifests

# Kinds whose pod spec sits in a pod template (`spec.template.spec`).
pod_template_kinds := {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "DeploymentConfig"}

# Kinds that carry a pod spec: what `pod_controllers` lists.
pod_controller_kinds := pod_template_kinds | {"Pod", "CronJob", "PodTemplate"}

# The pod spec of a pod controller manifest (Pod, controllers with a pod template, CronJob).
pod_spec(doc) := doc.spec if doc.kind == "Pod"

pod_spec(doc) := doc.spec.template.spec if doc.kind in pod_template_kinds

pod_spec(doc) := doc.spec.jobTemplate.spec.template.spec if doc.kind == "CronJob"

pod_spec(doc) := doc.template.spec if doc.kind == "PodTemplate"

# Where `pod_spec(doc)` is in the manifest, as a finding's `field` path.
pod_spec_path(doc) := "spec" if doc.kind == "Pod"

pod_spec_path(doc) := "spec.template.spec" if doc.kind in pod_template_kinds

pod_spec_path(doc) := "spec.jobTemplate.spec.template.spec" if doc.kind == "CronJob"

pod_spec_path(doc) := "template.spec" if doc.kind == "PodTemplate"

# Containers and init containers of a pod controller manifest with their path in it
# (`{"container": c, "path": "spec.template.spec.containers[1]"}`), so a finding can name the
# offending attribute's `field` and point at its line.
container_entries(doc) := [{"container": c, "path": sprintf("%s.%s[%d]", [pod_spec_path(doc), list, i])} |
	some list in ["containers", "initContainers"]
	some i, c in data.lib.core.as_list(data.lib.core.get(pod_spec(doc), list, null))
	is_object(c)
]

# Kubernetes resources that run pods (kinds in `pod_controller_kinds`).
pod_controllers := [r |
	some kind in pod_controller_kinds
	some i in object.get(input, ["types", kind], [])
	r := input.resources[i]
	data.lib.core.kubernetes(r)
]

# Containers and init containers of a pod controller manifest.
containers(doc) := array.concat(
	[c | some c in data.lib.core.as_list(data.lib.core.get(pod_spec(doc), "containers", null)); is_object(c)],
	[c | some c in data.lib.core.as_list(data.lib.core.get(pod_spec(doc), "initContainers", null)); is_object(c)],
)

# Only the main containers (no init containers).
main_containers(doc) := main_containers_of(pod_spec(doc))

container_name(c) := object.get(c, "name", "<unnamed>")

# Kinds whose pod spec Checkov's pod-level checks (hostNetwork, hostPID, root) read.
pod_level_check_kinds := {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

# Main containers of a pod spec (not a whole manifest).
main_containers_of(spec) := [c | some c in data.lib.core.as_list(data.lib.core.get(spec, "containers", null)); is_object(c)]

# A container's `resources` that is present but not a map cannot be judged.
unknown_resources(res) if {
	res != null
	not is_object(res)
}

# ---------------------------------------------------------------------------------------------
# Kubernetes pod controllers written with the Terraform kubernetes provider. Checkov's CKV_K8S_11,
# 13, 14, 16, 17 and 19 also judge these four types; blocks are lists of objects and names are
# snake_case (host_network, security_context).

terraform_pod_controller_types := {"kubernetes_pod", "kubernetes_pod_v1", "kubernetes_deployment", "kubernetes_deployment_v1"}

terraform_pod_controllers := [r |
	some t in terraform_pod_controller_types
	some r in data.lib.core.resources(t)
]

# The pod spec: spec[0], or spec[0].template[0].spec[0] when the resource has a pod template
# (deployments; Checkov looks for a template in every type).
terraform_pod_spec(r) := s if {
	spec := data.lib.core.block(r.config, "spec")
	tmpl := data.lib.core.block(spec, "template")
	s := data.lib.core.block(tmpl, "spec")
} else := s if {
	s := data.lib.core.block(r.config, "spec")
}

# Containers and init containers of a Terraform kubernetes pod controller.
terraform_containers(r) := array.concat(
	data.lib.core.blocks(terraform_pod_spec(r), "container"),
	data.lib.core.blocks(terraform_pod_spec(r), "init_container"),
)

# `limits`/`requests` of a Terraform container: a map attribute (provider v2) or a block (v1).
terraform_container_resources(c, kind, key) := v if {
	res := data.lib.core.block(c, "resources")
	m := data.lib.core.block(res, kind)
	v := object.get(m, key, null)
} else := null
