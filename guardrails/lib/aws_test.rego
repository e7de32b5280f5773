# Unit tests of lib.aws (OPA convention: each `test_*` rule must hold). `railyard test
# guardrails/` runs them with the fixtures; see docs/guardrails.md, "Rego unit tests".
package lib.aws_test

# A bucket and the separate resources that refer to it (`referenced_by_index`, computed by
# Railyard; docs/input.md). The second versioning resource has `count = 0`: never created.
bucket_input := {
	"resources": [
		{"address": "aws_s3_bucket.data", "id": "aws_s3_bucket.data", "type": "aws_s3_bucket", "kind": "terraform", "mode": "managed", "config": {}, "referenced_by": ["aws_s3_bucket_versioning.data"], "referenced_by_index": [1, 2, 3]},
		{"address": "aws_s3_bucket_versioning.data", "id": "aws_s3_bucket_versioning.data", "type": "aws_s3_bucket_versioning", "kind": "terraform", "mode": "managed", "config": {}},
		{"address": "aws_s3_bucket_versioning.never", "id": "aws_s3_bucket_versioning.never", "type": "aws_s3_bucket_versioning", "kind": "terraform", "mode": "managed", "config": {"count": 0}},
		{"address": "aws_s3_bucket_logging.data", "id": "aws_s3_bucket_logging.data", "type": "aws_s3_bucket_logging", "kind": "terraform", "mode": "managed", "config": {}},
	],
	"managed": {"aws_s3_bucket": [0], "aws_s3_bucket_versioning": [1], "aws_s3_bucket_logging": [3]},
}

test_bucket_configs_follow_references_of_one_type if {
	# (Bound first: with regorus, `bucket_input.resources[0]` read inside the `with` expression
	# came out undefined.)
	bucket := bucket_input.resources[0]
	[c.address | some c in data.lib.aws.bucket_configs("aws_s3_bucket_versioning", bucket)] == ["aws_s3_bucket_versioning.data"] with input as bucket_input
}

test_configures_bucket_reads_referenced_by if {
	data.lib.aws.configures_bucket({"address": "aws_s3_bucket_versioning.data"}, bucket_input.resources[0])
	not data.lib.aws.configures_bucket({"address": "aws_s3_bucket_logging.other"}, bucket_input.resources[0])
}

admin := {"Effect": "Allow", "Action": "*", "Resource": ["*"]}

test_policy_document_from_json_text_or_object if {
	data.lib.aws.policy_document(json.marshal({"Statement": [admin]})) == {"Statement": [admin]}
	data.lib.aws.policy_document({"Statement": admin}) == {"Statement": admin}
	not data.lib.aws.policy_document("{not json")
	not data.lib.aws.policy_document("${data.aws_iam_policy_document.p.json}")
}

test_statements_accept_one_or_a_list if {
	data.lib.aws.statements({"Statement": admin}) == [admin]
	data.lib.aws.statements({"Statement": [admin, "junk"]}) == [admin]
	data.lib.aws.statements({}) == []
}

test_admin_statement_is_star_on_star_allowed if {
	data.lib.aws.admin_statement(admin)
	data.lib.aws.admin_statement({"Action": ["*"], "Resource": "*"})
	not data.lib.aws.admin_statement(object.union(admin, {"Effect": "Deny"}))
	not data.lib.aws.admin_statement(object.union(admin, {"Action": "s3:*"}))
}

# One security group per way of writing an ingress rule.
sg(i, t, kind, config) := {"address": sprintf("%s.r%d", [t, i]), "id": sprintf("%s.r%d", [t, i]), "type": t, "kind": kind, "mode": "managed", "config": config}

sg_input := {
	"resources": [
		sg(0, "aws_security_group", "terraform", {"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}),
		sg(1, "aws_security_group_rule", "terraform", {"type": "ingress", "from_port": 0, "to_port": 0, "protocol": "-1", "ipv6_cidr_blocks": ["::/0"]}),
		sg(2, "aws_vpc_security_group_ingress_rule", "terraform", {"ip_protocol": "icmp", "from_port": -1, "to_port": -1, "cidr_ipv4": "0.0.0.0/0"}),
		sg(3, "AWS::EC2::SecurityGroup", "cloudformation", {"SecurityGroupIngress": [{"IpProtocol": "udp", "FromPort": "0", "ToPort": "0", "CidrIp": "0.0.0.0/0"}]}),
		sg(4, "aws_security_group", "terraform", {"ingress": [{"from_port": 0, "to_port": 0, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"], "prefix_list_ids": ["pl-1"]}]}),
		sg(5, "AWS::EC2::SecurityGroupIngress", "cloudformation", {"IpProtocol": {"Ref": "Proto"}, "FromPort": 3389, "ToPort": 3389, "CidrIp": "10.0.0.0/8"}),
	],
	"managed": {
		"aws_security_group": [0, 4],
		"aws_security_group_rule": [1],
		"aws_vpc_security_group_ingress_rule": [2],
		"AWS::EC2::SecurityGroup": [3],
		"AWS::EC2::SecurityGroupIngress": [5],
	},
}

rule_of(address) := rule if {
	rules := data.lib.aws.sg_ingress_rules with input as sg_input
	some rule in rules
	rule.resource.address == address
}

test_sg_ingress_rules_normalise_every_form if {
	count(data.lib.aws.sg_ingress_rules) == 6 with input as sg_input
}

test_ssh_rule_open_to_the_world if {
	rule := rule_of("aws_security_group.r0")
	[rule.from, rule.to, rule.kind] == [22, 22, "tcp"]
	data.lib.aws.open_to_world(rule)
	data.lib.aws.covers_port(rule, 22)
	not data.lib.aws.covers_port(rule, 23)
	not data.lib.aws.covers_udp_port(rule, 22)
	not data.lib.aws.all_traffic(rule)
}

test_protocol_minus_one_is_all_traffic if {
	rule := rule_of("aws_security_group_rule.r1")
	[rule.from, rule.to, rule.kind] == [0, 65535, "all"]
	data.lib.aws.open_to_world(rule)
	data.lib.aws.all_traffic(rule)
	data.lib.aws.covers_udp_port(rule, 3389)
}

test_icmp_never_opens_a_port if {
	rule := rule_of("aws_vpc_security_group_ingress_rule.r2")
	rule.kind == "other"
	not data.lib.aws.covers_port(rule, 22)
	not data.lib.aws.all_traffic(rule)
}

test_cloudformation_ports_are_literal if {
	rule := rule_of("AWS::EC2::SecurityGroup.r3")
	[rule.from, rule.to, rule.kind] == [0, 0, "udp"]
	not data.lib.aws.covers_udp_port(rule, 53)
}

test_prefix_lists_are_not_the_world if {
	rule := rule_of("aws_security_group.r4")
	[rule.from, rule.to] == [0, 65535]
	not data.lib.aws.open_to_world(rule)
}

test_an_unknown_protocol_is_never_safe if {
	rule := rule_of("AWS::EC2::SecurityGroupIngress.r5")
	rule.kind == "unknown"
	data.lib.aws.covers_port(rule, 3389)
	data.lib.aws.covers_udp_port(rule, 3389)
	not data.lib.aws.open_to_world(rule)
}
