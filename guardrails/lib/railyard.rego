# Shared helpers for the Railyard starter guardrails. Import with `import data.lib.railyard`.
# This package defines no `deny` rule: it is safe to import from every policy.
#
# Conventions (see docs/input.md and docs/guardrails.md):
#   * A finding names its resource by `id` as well as `resource` (`{"resource": r.address,
#     "id": r.id, ...}`): two resources may share an address (`envs/dev` and `envs/prod`).
#   * Terraform nested blocks are lists of objects; `block(cfg, "x")` walks them uniformly.
#   * Values that could not be resolved are strings starting with "${"; value checks treat
#     them as unknown and do not report them (the same as Checkov's UNKNOWN result). Plan
#     JSON values known only after apply have the same shape ("${aws_kms_key.k.arn}", or
#     "${(known after apply)}"), so presence checks (`!= null`) count them as set.
#   * CloudFormation config is the resource's Properties, intrinsic functions in long form,
#     with parameter defaults, mappings and conditions applied where they are known.
#   * Kubernetes config is the whole manifest.
package lib.railyard

# ---------------------------------------------------------------------------------------------
# Resources

# Managed resources (Terraform `resource`, plan resources, CloudFormation and Kubernetes
# resources) of one type, without those that are never created (see `absent`). Railyard
# lists their positions once per workload in `input.managed` (docs/input.md): filtering
# `input.types` here would redo that work in every guardrail.
resources(t) := [input.resources[i] | some i in object.get(input, ["managed", t], [])]

managed(r) if object.get(r, "mode", "managed") == "managed"

# A Terraform resource whose `count` is known to be 0 (`count = var.enabled ? 1 : 0` with
# the default false) is never created: Terraform makes no instance and Checkov skips it, so
# it neither fails a check nor configures another resource.
absent(r) if {
	terraform(r)
	object.get(r.config, "count", null) == 0
}

# Terraform data sources of one type (`data "aws_iam_policy_document" "x"`).
data_sources(t) := [r |
	some i in object.get(input, ["types", t], [])
	r := input.resources[i]
	r.mode == "data"
	not absent(r)
]

# Terraform provider blocks of one provider name (`provider "aws"`).
providers(name) := [r |
	some i in object.get(input, ["types", name], [])
	r := input.resources[i]
	r.mode == "provider"
]

terraform(r) if r.kind in {"terraform", "terraform-plan"}

cloudformation(r) if r.kind == "cloudformation"

kubernetes(r) if r.kind == "kubernetes"

# ---------------------------------------------------------------------------------------------
# Values

# A value the static reader could not resolve (reference, variable without default, ...).
unresolved(v) if {
	is_string(v)
	startswith(v, "${")
}

# A CloudFormation intrinsic function (`{"Ref": ...}`, `{"Fn::If": ...}`) or a Terraform
# expression: its value is only known at deploy time.
unknown(v) if unresolved(v)

unknown(v) if {
	is_object(v)
	some k, _ in v
	intrinsic_key(k)
}

intrinsic_key(k) if k == "Ref"

intrinsic_key(k) if startswith(k, "Fn::")

intrinsic_key(k) if k == "Condition"

known(v) if not unknown(v)

is_true(v) if v == true

is_true(v) if {
	is_string(v)
	lower(v) == "true"
}

is_false(v) if v == false

is_false(v) if {
	is_string(v)
	lower(v) == "false"
}

# Explicitly set to false, or to a known value that is not true: the setting is off.
off(v) if is_false(v)

off(v) if v == null

# `cfg[key]` when present and not null.
has(cfg, key) if {
	is_object(cfg)
	cfg[key] != null
}

# The first element of a Terraform nested block (blocks are lists of objects), or the object
# itself when a format gives a single object. Undefined when absent.
block(cfg, key) := b if {
	is_object(cfg)
	l := as_list(object.get(cfg, key, null))
	count(l) > 0
	b := l[0]
	is_object(b)
}

# The first element of a nested block, or {} when absent (safe to pass to object.get).
first_block(cfg, key) := b if {
	b := block(cfg, key)
} else := {}

# `cfg` at `path` (keys), or `fallback` when absent or `cfg` is not an object.
get(cfg, path, fallback) := object.get(cfg, path, fallback) if is_object(cfg)

get(cfg, _, fallback) := fallback if not is_object(cfg)

# Every object element of a nested block list.
blocks(cfg, key) := [b | is_object(cfg); some b in as_list(object.get(cfg, key, null)); is_object(b)]

# (One definition with `else`: regorus tries every definition of a function on each call, an
# `else` chain stops at the first that holds; the helpers below are called per resource.)
as_list(v) := v if {
	is_array(v)
} else := [] if {
	v == null
} else := [v]

# ---------------------------------------------------------------------------------------------
# References between Terraform resources

# `value` (a string, or any structure containing strings) refers to the resource `address`:
# "${aws_s3_bucket.logs.id}", "${aws_s3_bucket.logs.bucket}", "${aws_s3_bucket.logs[0].arn}".
refers_to(value, address) if {
	is_string(value)
	ref_string(value, address)
}

refers_to(value, address) if {
	not is_string(value)
	value != null
	ref_string(json.marshal(value), address)
}

ref_string(s, address) if {
	contains(s, "${")
	pattern := sprintf(`(^|[^A-Za-z0-9_.\-])%s(\.|\[|\})`, [replace(address, ".", `\.`)])
	regex.match(pattern, s)
}

# A separate Terraform resource (e.g. aws_s3_bucket_versioning) configures `bucket` when it
# refers to the bucket resource (like Checkov's graph connections, any attribute counts:
# `bucket = aws_s3_bucket.x.id`, or `target_bucket` of an aws_s3_bucket_logging) or when its
# `bucket` is the bucket's literal name (`bucket = "acme-logs"`). Both kinds of link come
# precomputed with the input in `referenced_by` / `referenced_by_index` (docs/input.md).
configures_bucket(cfg_resource, bucket) if cfg_resource.address in object.get(bucket, "referenced_by", [])

# Resources of type `t` that configure the given S3 bucket; following the precomputed links
# costs the number of linked resources, not the size of the workload.
bucket_configs(t, bucket) := [c |
	some i in object.get(bucket, "referenced_by_index", [])
	c := input.resources[i]
	c.type == t
	managed(c)
	not absent(c)
]

# ---------------------------------------------------------------------------------------------
# Tags

# Tags of a resource as an object, whatever the format: Terraform `tags` map (over
# `tags_all` in plans), CloudFormation `Tags` list of {Key, Value} (or a map for resources
# that use one), Kubernetes labels. Undefined when the tags are not known statically
# (e.g. `tags = merge(var.tags, {...})` with an unresolved variable). Railyard computes them
# once per resource (`input.resources[_].tags`, docs/input.md).
tags(r) := r.tags

object_or_empty(null) := {}

object_or_empty(v) := v if v != null

# The value of tag `key` (case-insensitive key match).
tag(r, key) := v if {
	some k, v in tags(r)
	lower(k) == lower(key)
}

# ---------------------------------------------------------------------------------------------
# IAM policy documents

# A policy given as JSON text (jsonencode, heredoc, file contents) or as an object (plan JSON
# after decoding, CloudFormation PolicyDocument).
policy_document(p) := doc if {
	is_string(p)
	json.is_valid(p)
	doc := json.unmarshal(p)
	is_object(doc)
}

policy_document(p) := p if is_object(p)

# Statements of a policy document (Statement may be one object or a list).
statements(doc) := [s | some s in as_list(object.get(doc, "Statement", [])); is_object(s)]

# The statement allows every action on every resource.
admin_statement(s) if {
	object.get(s, "Effect", "Allow") == "Allow"
	"*" in as_list(object.get(s, "Action", []))
	"*" in as_list(object.get(s, "Resource", []))
}

# ---------------------------------------------------------------------------------------------
# Kubernetes

template_kinds := {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "DeploymentConfig"}

workload_kinds := template_kinds | {"Pod", "CronJob", "PodTemplate"}

# The pod spec of a workload manifest (Pod, controllers with a pod template, CronJob).
pod_spec(doc) := doc.spec if doc.kind == "Pod"

pod_spec(doc) := doc.spec.template.spec if doc.kind in template_kinds

pod_spec(doc) := doc.spec.jobTemplate.spec.template.spec if doc.kind == "CronJob"

pod_spec(doc) := doc.template.spec if doc.kind == "PodTemplate"

# Where `pod_spec(doc)` is in the manifest, as a finding's `field` path.
pod_spec_path(doc) := "spec" if doc.kind == "Pod"

pod_spec_path(doc) := "spec.template.spec" if doc.kind in template_kinds

pod_spec_path(doc) := "spec.jobTemplate.spec.template.spec" if doc.kind == "CronJob"

pod_spec_path(doc) := "template.spec" if doc.kind == "PodTemplate"

# Containers and init containers of a workload manifest with their path in it
# (`{"container": c, "path": "spec.template.spec.containers[1]"}`), so a finding can name the
# offending attribute's `field` and point at its line.
container_entries(doc) := [{"container": c, "path": sprintf("%s.%s[%d]", [pod_spec_path(doc), list, i])} |
	some list in ["containers", "initContainers"]
	some i, c in as_list(get(pod_spec(doc), list, null))
	is_object(c)
]

# Kubernetes resources that run pods.
workloads := [r |
	some kind in workload_kinds
	some i in object.get(input, ["types", kind], [])
	r := input.resources[i]
	kubernetes(r)
]

# Containers and init containers of a workload manifest.
containers(doc) := array.concat(
	[c | some c in as_list(get(pod_spec(doc), "containers", null)); is_object(c)],
	[c | some c in as_list(get(pod_spec(doc), "initContainers", null)); is_object(c)],
)

# Only the main containers (no init containers).
main_containers(doc) := main_containers_of(pod_spec(doc))

container_name(c) := object.get(c, "name", "<unnamed>")

# ---------------------------------------------------------------------------------------------
# Security group ingress rules (Terraform and CloudFormation), normalised to
# {resource, from, to, protocol, cidrs, prefix_lists} where cidrs holds the IPv4 and IPv6 CIDRs.
# Semantics follow Checkov's AbsSecurityGroupUnrestrictedIngress: Terraform ports 0..0 mean every port;
# a rule that names prefix lists is not open to the world.

# A number from a number or a numeric string; undefined otherwise.
num(v) := v if {
	is_number(v)
} else := to_number(v) if {
	is_string(v)
	regex.match(`^-?[0-9]+$`, v)
}

sg_rule(r, rule, from_key, to_key, proto_key, v4_keys, v6_keys) := {
	"resource": r,
	"from": from,
	"to": to,
	"protocol": protocol,
	"kind": protocol_kind(raw_protocol, protocol),
	"cidrs": array.concat(
		[c | some k in v4_keys; some c in as_list(object.get(rule, k, null))],
		[c | some k in v6_keys; some c in as_list(object.get(rule, k, null))],
	),
	"prefix_lists": [p | some p in as_list(object.get(rule, "prefix_list_ids", null))],
} if {
	raw_protocol := object.get(rule, proto_key, "")
	protocol := lower(sprintf("%v", [raw_protocol]))
	[from, to] := rule_ports(r, rule, from_key, to_key, protocol)
}

# A rule's port range. Protocol -1/all admits every port whatever the ports say (AWS ignores
# them; `aws_vpc_security_group_ingress_rule` and CloudFormation omit them).
rule_ports(r, rule, from_key, to_key, protocol) := [0, 65535] if {
	protocol in all_protocol_names
} else := [from, range_end(r, from, to)] if {
	from := num(object.get(rule, from_key, null))
	to := num(object.get(rule, to_key, null))
}

# Terraform ports 0..0 mean every port; CloudFormation ranges are taken literally (as Checkov).
range_end(r, from, to) := 65535 if {
	from == 0
	to == 0
	terraform(r)
} else := to

sg_ingress_rules contains rule if {
	some r in resources("aws_security_group")
	some b in blocks(r.config, "ingress")
	rule := sg_rule(r, b, "from_port", "to_port", "protocol", ["cidr_blocks"], ["ipv6_cidr_blocks"])
}

sg_ingress_rules contains rule if {
	some r in resources("aws_security_group_rule")
	r.config.type == "ingress"
	rule := sg_rule(r, r.config, "from_port", "to_port", "protocol", ["cidr_blocks"], ["ipv6_cidr_blocks"])
}

sg_ingress_rules contains rule if {
	some r in resources("aws_vpc_security_group_ingress_rule")
	rule := sg_rule(r, r.config, "from_port", "to_port", "ip_protocol", ["cidr_ipv4"], ["cidr_ipv6"])
}

sg_ingress_rules contains rule if {
	some r in resources("AWS::EC2::SecurityGroup")
	some b in as_list(object.get(r.config, "SecurityGroupIngress", []))
	is_object(b)
	rule := sg_rule(r, b, "FromPort", "ToPort", "IpProtocol", ["CidrIp"], ["CidrIpv6"])
}

sg_ingress_rules contains rule if {
	some r in resources("AWS::EC2::SecurityGroupIngress")
	rule := sg_rule(r, r.config, "FromPort", "ToPort", "IpProtocol", ["CidrIp"], ["CidrIpv6"])
}

world_cidrs := {"0.0.0.0/0", "::/0", "0000:0000:0000:0000:0000:0000:0000:0000/0"}

# The rule admits the whole internet (and is not limited to prefix lists).
open_to_world(rule) if {
	count(rule.prefix_lists) == 0
	some c in rule.cidrs
	c in world_cidrs
}

# Protocol names (Terraform, CloudFormation and the EC2 API, lowercased). A rule's ports are
# ports of its own protocol: a UDP rule does not open TCP 22, and an ICMP rule's "ports" are
# ICMP type and code (`-1` = every type), so ICMP never opens a port nor "all traffic".
all_protocol_names := {"-1", "all"}

tcp_protocol_names := {"tcp", "6"}

udp_protocol_names := {"udp", "17"}

# The protocol's kind, decided once per rule: "all", "tcp", "udp", "other" (ICMP, GRE, ...)
# or "unknown" (unresolved, an intrinsic function, or missing: never taken as safe).
protocol_kind(raw, protocol) := "unknown" if {
	is_object(raw)
} else := "unknown" if {
	startswith(protocol, "${")
} else := "unknown" if {
	protocol == ""
} else := "all" if {
	protocol in all_protocol_names
} else := "tcp" if {
	protocol in tcp_protocol_names
} else := "udp" if {
	protocol in udp_protocol_names
} else := "other"

# Kinds that can carry TCP (or UDP) traffic to a port.
tcp_kinds := {"tcp", "all", "unknown"}

udp_kinds := {"udp", "all", "unknown"}

# The rule admits TCP `port` (CloudFormation ports 0..0 are a literal range).
covers_port(rule, port) if {
	rule.kind in tcp_kinds
	rule.from <= port
	port <= rule.to
}

# The rule admits UDP `port`.
covers_udp_port(rule, port) if {
	rule.kind in udp_kinds
	rule.from <= port
	port <= rule.to
}

# "All traffic" (Checkov CKV_AWS_277): protocol -1/all (its ports are ignored), ports -1..-1
# on a protocol that can carry TCP or UDP (the "all ports" of CKV_AWS_277's labelled cases),
# or a protocol that is not known over 0..65535. ICMP -1..-1 is every ICMP type: not all
# traffic (Checkov reports it).
all_traffic(rule) if {
	rule.kind == "all"
} else := true if {
	rule.from < 0
	rule.to >= -1
	rule.kind in port_kinds
} else := true if {
	rule.kind == "unknown"
	rule.from <= 0
	rule.to >= 65535
}

port_kinds := {"tcp", "udp", "unknown"}

# Kinds whose pod spec Checkov's pod-level checks (hostNetwork, hostPID, root) read.
pod_controller_kinds := {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

# Main containers of a pod spec (not a whole manifest).
main_containers_of(spec) := [c | some c in as_list(get(spec, "containers", null)); is_object(c)]

# Python-style truthiness for YAML values: false, null, 0, "" and empty collections are false.
truthy(v) if {
	v != false
	v != null
	v != 0
	v != ""
	v != []
	v != {}
}

# A container's `resources` that is present but not a map cannot be judged.
unknown_resources(res) if {
	res != null
	not is_object(res)
}

# ---------------------------------------------------------------------------------------------
# Kubernetes workloads written with the Terraform kubernetes provider. Checkov's CKV_K8S_11,
# 13, 14, 16, 17 and 19 also judge these four types; blocks are lists of objects and names are
# snake_case (host_network, security_context).

tf_k8s_types := {"kubernetes_pod", "kubernetes_pod_v1", "kubernetes_deployment", "kubernetes_deployment_v1"}

tf_k8s_workloads := [r |
	some t in tf_k8s_types
	some r in resources(t)
]

# The pod spec: spec[0], or spec[0].template[0].spec[0] when the resource has a pod template
# (deployments; Checkov looks for a template in every type).
tf_pod_spec(r) := s if {
	spec := block(r.config, "spec")
	tmpl := block(spec, "template")
	s := block(tmpl, "spec")
} else := s if {
	s := block(r.config, "spec")
}

# Containers and init containers of a Terraform kubernetes workload.
tf_containers(r) := array.concat(
	blocks(tf_pod_spec(r), "container"),
	blocks(tf_pod_spec(r), "init_container"),
)

# `limits`/`requests` of a Terraform container: a map attribute (provider v2) or a block (v1).
tf_resource_value(c, kind, key) := v if {
	res := block(c, "resources")
	m := block(res, kind)
	v := object.get(m, key, null)
} else := null
