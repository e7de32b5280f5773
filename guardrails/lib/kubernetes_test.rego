# Unit tests of lib.kubernetes (OPA convention: each `test_*` rule must hold). `railyard test
# guardrails/` runs them with the fixtures; see docs/guardrails.md, "Rego unit tests".
package lib.kubernetes_test

container(name) := {"name": name, "image": "nginx:1.27"}

deployment := {
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [container("app"), container("sidecar")], "initContainers": [container("init")]}}},
}

cronjob := {
	"kind": "CronJob",
	"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [container("job")]}}}}},
}

manifest(i, kind, config) := {"address": sprintf("%s.default.m%d", [kind, i]), "id": sprintf("m%d", [i]), "type": kind, "kind": "kubernetes", "mode": "managed", "config": config}

k8s_input := {
	"resources": [
		manifest(0, "Deployment", deployment),
		manifest(1, "CronJob", cronjob),
		manifest(2, "Service", {"kind": "Service"}),
		manifest(3, "Pod", {"kind": "Pod", "spec": {"containers": [{"image": "busybox"}]}}),
	],
	"types": {"Deployment": [0], "CronJob": [1], "Service": [2], "Pod": [3]},
}

test_pod_controllers_are_the_manifests_with_a_pod_spec if {
	ids := {r.id | some r in data.lib.kubernetes.pod_controllers} with input as k8s_input
	ids == {"m0", "m1", "m3"}
}

test_pod_spec_and_its_path_by_kind if {
	data.lib.kubernetes.pod_spec(deployment) == deployment.spec.template.spec
	data.lib.kubernetes.pod_spec_path(deployment) == "spec.template.spec"
	data.lib.kubernetes.pod_spec(cronjob) == cronjob.spec.jobTemplate.spec.template.spec
	data.lib.kubernetes.pod_spec_path(cronjob) == "spec.jobTemplate.spec.template.spec"
	data.lib.kubernetes.pod_spec_path({"kind": "PodTemplate", "template": {"spec": {}}}) == "template.spec"
	not data.lib.kubernetes.pod_spec({"kind": "Service", "spec": {}})
}

test_containers_include_init_containers if {
	[c.name | some c in data.lib.kubernetes.containers(deployment)] == ["app", "sidecar", "init"]
	[c.name | some c in data.lib.kubernetes.main_containers(deployment)] == ["app", "sidecar"]
}

test_container_entries_carry_field_paths if {
	[e.path | some e in data.lib.kubernetes.container_entries(deployment)] == [
		"spec.template.spec.containers[0]",
		"spec.template.spec.containers[1]",
		"spec.template.spec.initContainers[0]",
	]
}

test_pod_containers_list_every_container_as_container_entries_do if {
	entries := [[e.resource.id, e.path, e.name] | some e in data.lib.kubernetes.pod_containers] with input as k8s_input
	sort(entries) == [
		["m0", "spec.template.spec.containers[0]", "app"],
		["m0", "spec.template.spec.containers[1]", "sidecar"],
		["m0", "spec.template.spec.initContainers[0]", "init"],
		["m1", "spec.jobTemplate.spec.template.spec.containers[0]", "job"],
		["m3", "spec.containers[0]", "<unnamed>"],
	]
	all := data.lib.kubernetes.pod_containers with input as k8s_input
	every e in all {
		e.container in data.lib.kubernetes.containers(e.resource.config)
	}
}

test_pod_spec_is_undefined_where_the_kind_keeps_none if {
	not data.lib.kubernetes.pod_spec({"kind": "Deployment", "spec": {}})
	data.lib.kubernetes.pod_spec({"kind": "Pod", "spec": null}) == null
	data.lib.kubernetes.container_entries({"kind": "Deployment"}) == []
}

test_container_name_of_an_unnamed_container if {
	data.lib.kubernetes.container_name({"image": "busybox"}) == "<unnamed>"
}

test_unknown_resources_is_a_resources_value_that_is_not_a_map if {
	data.lib.kubernetes.unknown_resources("{{ .Values.resources }}")
	not data.lib.kubernetes.unknown_resources({"limits": {"cpu": "1"}})
	not data.lib.kubernetes.unknown_resources(null)
}

terraform_deployment := {
	"address": "kubernetes_deployment.web", "id": "kubernetes_deployment.web", "type": "kubernetes_deployment", "kind": "terraform", "mode": "managed",
	"config": {"spec": [{"template": [{"spec": [{
		"container": [{"name": "app", "resources": [{"limits": {"cpu": "500m"}}]}],
		"init_container": [{"name": "init", "resources": [{"limits": [{"memory": "64Mi"}]}]}],
	}]}]}]},
}

test_terraform_pod_controllers_and_their_containers if {
	[r.address | some r in data.lib.kubernetes.terraform_pod_controllers] == ["kubernetes_deployment.web"] with input as {"resources": [terraform_deployment], "managed": {"kubernetes_deployment": [0]}}
	[c.name | some c in data.lib.kubernetes.terraform_containers(terraform_deployment)] == ["app", "init"]
}

test_terraform_container_resources_as_a_map_or_a_block if {
	[app, init] := data.lib.kubernetes.terraform_containers(terraform_deployment)
	data.lib.kubernetes.terraform_container_resources(app, "limits", "cpu") == "500m"
	data.lib.kubernetes.terraform_container_resources(init, "limits", "memory") == "64Mi"
	data.lib.kubernetes.terraform_container_resources(app, "limits", "memory") == null
}
