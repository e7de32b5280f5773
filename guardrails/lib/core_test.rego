# Unit tests of lib.core (OPA convention: each `test_*` rule must hold). `railyard test
# guardrails/` runs them with the fixtures; see docs/guardrails.md, "Rego unit tests".
package lib.core_test

# A small Terraform input, shaped as docs/input.md describes: `managed` and `types` index
# `resources` by type (Railyard leaves `count = 0` resources out of `managed`).
terraform_input := {
	"resources": [
		{"address": "aws_s3_bucket.logs", "id": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "kind": "terraform", "mode": "managed", "config": {}},
		{"address": "aws_s3_bucket.never", "id": "aws_s3_bucket.never", "type": "aws_s3_bucket", "kind": "terraform", "mode": "managed", "config": {"count": 0}},
		{"address": "data.aws_iam_policy_document.p", "id": "data.aws_iam_policy_document.p", "type": "aws_iam_policy_document", "kind": "terraform", "mode": "data", "config": {}},
		{"address": "data.aws_iam_policy_document.q", "id": "data.aws_iam_policy_document.q", "type": "aws_iam_policy_document", "kind": "terraform", "mode": "data", "config": {"count": 0}},
		{"address": "provider.aws", "id": "provider.aws", "type": "aws", "kind": "terraform", "mode": "provider", "config": {"region": "eu-west-1"}},
	],
	"managed": {"aws_s3_bucket": [0]},
	"types": {"aws_s3_bucket": [0, 1], "aws_iam_policy_document": [2, 3], "aws": [4]},
}

addresses(rs) := [r.address | some r in rs]

test_resources_reads_the_managed_index if {
	addresses(data.lib.core.resources("aws_s3_bucket")) == ["aws_s3_bucket.logs"] with input as terraform_input
}

test_resources_of_a_type_not_present_is_empty if {
	data.lib.core.resources("aws_db_instance") == [] with input as terraform_input
}

test_data_sources_leave_out_count_zero if {
	addresses(data.lib.core.data_sources("aws_iam_policy_document")) == ["data.aws_iam_policy_document.p"] with input as terraform_input
}

test_providers_by_name if {
	addresses(data.lib.core.providers("aws")) == ["provider.aws"] with input as terraform_input
}

test_kind_predicates if {
	data.lib.core.terraform({"kind": "terraform-plan"})
	not data.lib.core.terraform({"kind": "cloudformation"})
	data.lib.core.cloudformation({"kind": "cloudformation"})
	data.lib.core.kubernetes({"kind": "kubernetes"})
}

test_is_true_accepts_booleans_and_their_strings if {
	data.lib.core.is_true(true)
	data.lib.core.is_true("True")
	not data.lib.core.is_true("yes")
	not data.lib.core.is_true("${var.enabled}")
	not data.lib.core.is_true(null)
}

test_is_false_accepts_booleans_and_their_strings if {
	data.lib.core.is_false(false)
	data.lib.core.is_false("FALSE")
	not data.lib.core.is_false(null)
	not data.lib.core.is_false(0)
}

test_unknown_values if {
	data.lib.core.unresolved("${var.x}")
	data.lib.core.unknown("${aws_kms_key.k.arn}")
	data.lib.core.unknown({"Ref": "Param"})
	data.lib.core.unknown({"Fn::If": ["C", true, false]})
	not data.lib.core.unknown("plain")
	not data.lib.core.unknown(false)
	not data.lib.core.unknown({"Key": "Ref"})
}

test_block_takes_the_first_object if {
	data.lib.core.block({"v": [{"a": 1}, {"a": 2}]}, "v") == {"a": 1}
	data.lib.core.block({"v": {"a": 1}}, "v") == {"a": 1}
	not data.lib.core.block({"v": []}, "v")
	not data.lib.core.block({"v": ["text"]}, "v")
	not data.lib.core.block("not an object", "v")
}

test_first_block_is_empty_when_absent if {
	data.lib.core.first_block({}, "v") == {}
	data.lib.core.first_block({"v": [{"a": 1}]}, "v") == {"a": 1}
}

test_blocks_keep_only_objects if {
	data.lib.core.blocks({"v": [{"a": 1}, "x", null, {"a": 2}]}, "v") == [{"a": 1}, {"a": 2}]
	data.lib.core.blocks({}, "v") == []
	data.lib.core.blocks([1], "v") == []
}

test_as_list if {
	data.lib.core.as_list([1, 2]) == [1, 2]
	data.lib.core.as_list(null) == []
	data.lib.core.as_list("one") == ["one"]
}

test_get_falls_back_on_anything_but_an_object if {
	data.lib.core.get({"a": {"b": 2}}, ["a", "b"], 0) == 2
	data.lib.core.get({"a": {}}, ["a", "b"], 0) == 0
	data.lib.core.get([{"a": 1}], ["a"], "fallback") == "fallback"
}

test_refers_to_matches_whole_addresses if {
	data.lib.core.refers_to("${aws_s3_bucket.logs.id}", "aws_s3_bucket.logs")
	data.lib.core.refers_to("${aws_s3_bucket.logs[0].arn}", "aws_s3_bucket.logs")
	data.lib.core.refers_to({"target": ["${aws_s3_bucket.logs.bucket}"]}, "aws_s3_bucket.logs")
	not data.lib.core.refers_to("${aws_s3_bucket.logs2.id}", "aws_s3_bucket.logs")
	not data.lib.core.refers_to("${module.x.aws_s3_bucket.logsx}", "aws_s3_bucket.logs")
	not data.lib.core.refers_to("aws_s3_bucket.logs", "aws_s3_bucket.logs")
}

test_tag_keys_are_case_insensitive if {
	data.lib.core.tag({"tags": {"Owner": "team-a"}}, "owner") == "team-a"
	not data.lib.core.tag({"tags": {"Owner": "team-a"}}, "environment")
}

test_num_reads_numbers_and_numeric_strings if {
	data.lib.core.num(22) == 22
	data.lib.core.num("-1") == -1
	not data.lib.core.num("22x")
	not data.lib.core.num(null)
}

test_truthy_is_yaml_truthiness if {
	data.lib.core.truthy("x")
	data.lib.core.truthy(1)
	not data.lib.core.truthy(false)
	not data.lib.core.truthy(0)
	not data.lib.core.truthy("")
	not data.lib.core.truthy([])
	not data.lib.core.truthy({})
	not data.lib.core.truthy(null)
}
