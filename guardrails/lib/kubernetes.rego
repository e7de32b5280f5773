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

# Where each kind keeps its pod spec: `spec` (Pod), `spec.template.spec` (controllers with a
# pod template), `spec.jobTemplate.spec.template.spec` (CronJob), `template.spec` (PodTemplate).
pod_spec_paths := object.union(
	{kind: ["spec", "template", "spec"] | some kind in pod_template_kinds},
	{
		"Pod": ["spec"],
		"CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
		"PodTemplate": ["template", "spec"],
	},
)

# Where a custom resource that runs pods keeps its pod spec, recognised by shape (a
# `containers` list there) when its kind is none of `pod_controller_kinds`: Argo Rollouts,
# Knative Services, OpenKruise CloneSets (`spec.template.spec`), KEDA ScaledJobs (CronJob's
# path). The first shape that fits is the one.
pod_spec_shapes := [["spec", "template", "spec"], ["spec", "jobTemplate", "spec", "template", "spec"]]

shaped_path(doc) := p if {
	p := pod_spec_shapes[0]
	is_array(object.get(doc, array.concat(p, ["containers"]), null))
} else := p if {
	p := pod_spec_shapes[1]
	is_array(object.get(doc, array.concat(p, ["containers"]), null))
}

# Marks a path that is not in the manifest (a `null` there is a value, kept as it was).
absent := {"railyard": "absent"}

# (One definition, builtins only: these run for every manifest in every Kubernetes guardrail,
# and regorus evaluates every definition of a function on each call and copies the arguments
# into each; the per-kind definitions they replace made the Kubernetes guardrails most of
# `check` on manifest sets.)

# The pod spec of a pod controller manifest (Pod, controllers with a pod template, CronJob).
pod_spec(doc) := s if {
	s := object.get(doc, pod_spec_paths[doc.kind], absent)
	s != absent
}

# Where `pod_spec(doc)` is in the manifest, as a finding's `field` path.
pod_spec_path(doc) := concat(".", pod_spec_paths[doc.kind]) if pod_spec(doc)

# Containers and init containers of a pod controller manifest with their path in it
# (`{"container": c, "path": "spec.template.spec.containers[1]"}`), so a finding can name the
# offending attribute's `field` and point at its line.
container_entries(doc) := [{"container": c, "path": sprintf("%s.%s[%d]", [path, list, i])} |
	spec := pod_spec(doc)
	path := concat(".", pod_spec_paths[doc.kind])
	some list in ["containers", "initContainers"]
	some i, c in data.lib.core.as_list(data.lib.core.get(spec, list, null))
	is_object(c)
]

# Every pod controller manifest (a kind in `pod_controller_kinds`), with where its kind keeps
# the pod spec and the spec when the manifest has one there: `{"resource": r, "path":
# "spec.template.spec", "spec": {...}}` (no `spec` member when it is absent, so `p.spec` is
# undefined as `pod_spec` is). Railyard computes this list once per workload
# (`input.kubernetes.pods`, docs/input.md); an `input` without it, such as a unit test's, gets
# the same list from the Rego below.
pods := p if {
	p := input.kubernetes.pods
} else := array.concat(
	[object.union({"resource": r, "path": concat(".", pod_spec_paths[r.config.kind])}, {"spec": s | s := pod_spec(r.config)}) |
		some kind in pod_controller_kinds
		some i in object.get(input, ["types", kind], [])
		r := input.resources[i]
		data.lib.core.kubernetes(r)
	],
	# Custom resources that run pods (`pod_spec_shapes`), listed under their own kind.
	[{"resource": r, "path": concat(".", path), "spec": object.get(r.config, path, null)} |
		some r in input.resources
		data.lib.core.kubernetes(r)
		is_string(r.config.kind)
		r.type == r.config.kind
		not pod_spec_paths[r.config.kind]
		path := shaped_path(r.config)
	],
)

# Kubernetes resources that run pods (kinds in `pod_controller_kinds`).
pod_controllers := [p.resource | some p in pods]

# Containers and init containers of a pod controller manifest.
containers(doc) := [e.container | some e in container_entries(doc)]

# Every container and init container of every pod controller manifest, with its manifest's
# resource, its `field` path, its name and whether it is an init container (`{"resource": r,
# "container": c, "path": "spec.containers[0]", "name": "app", "init": false}`): what
# `container_entries` and `container_name` give for each manifest. Railyard computes it once
# per workload (`input.kubernetes.containers`); an `input` without it gets it from the Rego
# below (written with builtins: a function call costs regorus more than its lookups).
pod_containers := c if {
	c := input.kubernetes.containers
} else := [{"resource": p.resource, "container": c, "path": sprintf("%s.%s[%d]", [p.path, list, i]), "name": object.get(c, "name", "<unnamed>"), "init": {"containers": false, "initContainers": true}[list]} |
	some p in pods
	is_object(p.spec)
	some list in ["containers", "initContainers"]
	some i, c in data.lib.core.as_list(object.get(p.spec, list, null))
	is_object(c)
]

# Only the main containers (no init containers).
main_containers(doc) := main_containers_of(pod_spec(doc))

container_name(c) := object.get(c, "name", "<unnamed>")

# Kinds whose pod spec Checkov's pod-level checks (hostNetwork, hostPID, root) read.
pod_level_check_kinds := {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

# Pod carriers whose pod-level fields the pod-level guardrails leave to others (as Checkov
# does): every other entry of `pods` is judged, custom resources that run pods included.
pod_level_excluded_kinds := {"DeploymentConfig", "PodTemplate"}

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
