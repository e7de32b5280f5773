# CloudTrail is_multi_region_trail (Checkov CKV_AWS_67). Missing means false; an unresolved value is not reported.
package railyard.aws_cloudtrail_multi_region

deny contains f if {
	some t in data.lib.core.resources("aws_cloudtrail")
	v := object.get(t.config, "is_multi_region_trail", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"field": "is_multi_region_trail",
		"message": sprintf("%s: the trail only records its home region; set is_multi_region_trail = true", [t.address]),
	}
}

deny contains f if {
	some t in data.lib.core.resources("AWS::CloudTrail::Trail")
	v := object.get(t.config, "IsMultiRegionTrail", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"field": "IsMultiRegionTrail",
		"message": sprintf("%s: the trail only records its home region; set IsMultiRegionTrail: true", [t.address]),
	}
}
