# Generic helpers for every kind of code Railyard reads (Terraform, Terraform plans,
# CloudFormation, Kubernetes): looking resources up, reading values that may be unknown,
# nested blocks, references and tags. Cloud- and platform-specific helpers live beside it in
# `aws.rego` (package lib.aws) and `kubernetes.rego` (package lib.kubernetes).
# Policies call them by full path, `data.lib.core.resources("aws_s3_bucket")`
# (docs/guardrails.md, "Shared helpers"). This package defines no `deny` rule.
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
package lib.core

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

# (One definition with `else`: called per resource by many guardrails.)
is_true(v) if {
	v == true
} else := true if {
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
# Numbers and truthiness

# A number from a number or a numeric string; undefined otherwise.
num(v) := v if {
	is_number(v)
} else := to_number(v) if {
	is_string(v)
	regex.match(`^-?[0-9]+$`, v)
}

# Python-style truthiness for YAML values: false, null, 0, "" and empty collections are false.
truthy(v) if {
	v != false
	v != null
	v != 0
	v != ""
	v != []
	v != {}
}
