# Fixed image tags (Checkov CKV_K8S_14): a digest passes; no tag or `latest` fails; a container
# without an image fails; a non-string image is not judged. The first path segment of a
# reference is the registry (`localhost:5000/app` has no tag).
package railyard.k8s_image_tag_pinned

# What is wrong with a container's image, if anything. (One definition with `else`, the tag
# read once with builtins: regorus evaluates every definition of a function on each call,
# and a call costs more than the builtins here; this runs for every container.)
problem(c) := "has no image" if {
	object.get(c, "image", "") in {"", null}
} else := p if {
	is_string(c.image)
	not contains(c.image, "@")
	# The tag: what follows the first `:` after the registry (the first path segment of a
	# reference with more than one), "" when nothing does.
	parts := split(trim_space(c.image), "/")
	rest := concat("/", array.slice(parts, min([1, count(parts) - 1]), count(parts)))
	pieces := split(rest, ":")
	p := tag_problem(c.image, concat(":", array.slice(pieces, 1, count(pieces))))
}

# What is wrong with an image whose tag is `tag` (no tag, or `latest`).
tag_problem(image, tag) := sprintf("uses image %v without a tag", [image]) if {
	tag == ""
	trim_space(image) != ""
} else := sprintf("uses image %v with the mutable tag latest", [image]) if tag == "latest"

deny contains f if {
	some e in data.lib.kubernetes.pod_containers
	r := e.resource
	p := problem(e.container)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v %s; pin a version tag or a digest (@sha256:...)", [r.address, e.name, p]),
	}
}

# Terraform kubernetes provider (kubernetes_pod, kubernetes_deployment and their _v1 forms);
# an image given by an unresolved expression is not judged.
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	some c in data.lib.kubernetes.terraform_containers(r)
	not data.lib.core.unknown(object.get(c, "image", ""))
	p := problem(c)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: container %v %s; pin a version tag or a digest (@sha256:...)", [r.address, data.lib.kubernetes.container_name(c), p]),
	}
}

# A Terraform workload with a spec but no container in its pod spec cannot be shown to pin its
# images (Checkov fails it too), e.g. containers placed directly under `template`.
deny contains f if {
	some r in data.lib.kubernetes.terraform_pod_controllers
	data.lib.core.block(r.config, "spec")
	count(data.lib.kubernetes.terraform_containers(r)) == 0
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no container found in the pod spec (spec.container or spec.template.spec.container), so its images cannot be checked", [r.address]),
	}
}
