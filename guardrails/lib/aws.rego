# AWS helpers (Terraform and CloudFormation): S3 buckets configured by separate resources,
# IAM policy documents, security-group ingress rules. Built on `lib.core`; policies call them
# by full path (`data.lib.aws.sg_ingress_rules`). This package defines no `deny` rule.
package lib.aws

# ---------------------------------------------------------------------------------------------
# S3 buckets configured by separate resources

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
	data.lib.core.managed(c)
	not data.lib.core.absent(c)
]

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
statements(doc) := [s | some s in data.lib.core.as_list(object.get(doc, "Statement", [])); is_object(s)]

# The statement allows every action on every resource.
admin_statement(s) if {
	object.get(s, "Effect", "Allow") == "Allow"
	"*" in data.lib.core.as_list(object.get(s, "Action", []))
	"*" in data.lib.core.as_list(object.get(s, "Resource", []))
}

# ---------------------------------------------------------------------------------------------
# Security group ingress rules (Terraform and CloudFormation), normalised to
# {resource, from, to, protocol, cidrs, prefix_lists} where cidrs holds the IPv4 and IPv6 CIDRs.
# Semantics follow Checkov's AbsSecurityGroupUnrestrictedIngress: Terraform ports 0..0 mean every port;
# a rule that names prefix lists is not open to the world.

sg_rule(r, rule, from_key, to_key, proto_key, v4_keys, v6_keys) := {
	"resource": r,
	"from": from,
	"to": to,
	"protocol": protocol,
	"kind": protocol_kind(raw_protocol, protocol),
	"cidrs": array.concat(
		[c | some k in v4_keys; some c in data.lib.core.as_list(object.get(rule, k, null))],
		[c | some k in v6_keys; some c in data.lib.core.as_list(object.get(rule, k, null))],
	),
	"prefix_lists": [p | some p in data.lib.core.as_list(object.get(rule, "prefix_list_ids", null))],
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
	from := data.lib.core.num(object.get(rule, from_key, null))
	to := data.lib.core.num(object.get(rule, to_key, null))
}

# Terraform ports 0..0 mean every port; CloudFormation ranges are taken literally (as Checkov).
range_end(r, from, to) := 65535 if {
	from == 0
	to == 0
	data.lib.core.terraform(r)
} else := to

sg_ingress_rules contains rule if {
	some r in data.lib.core.resources("aws_security_group")
	some b in data.lib.core.blocks(r.config, "ingress")
	rule := sg_rule(r, b, "from_port", "to_port", "protocol", ["cidr_blocks"], ["ipv6_cidr_blocks"])
}

sg_ingress_rules contains rule if {
	some r in data.lib.core.resources("aws_security_group_rule")
	r.config.type == "ingress"
	rule := sg_rule(r, r.config, "from_port", "to_port", "protocol", ["cidr_blocks"], ["ipv6_cidr_blocks"])
}

sg_ingress_rules contains rule if {
	some r in data.lib.core.resources("aws_vpc_security_group_ingress_rule")
	rule := sg_rule(r, r.config, "from_port", "to_port", "ip_protocol", ["cidr_ipv4"], ["cidr_ipv6"])
}

sg_ingress_rules contains rule if {
	some r in data.lib.core.resources("AWS::EC2::SecurityGroup")
	some b in data.lib.core.as_list(object.get(r.config, "SecurityGroupIngress", []))
	is_object(b)
	rule := sg_rule(r, b, "FromPort", "ToPort", "IpProtocol", ["CidrIp"], ["CidrIpv6"])
}

sg_ingress_rules contains rule if {
	some r in data.lib.core.resources("AWS::EC2::SecurityGroupIngress")
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
