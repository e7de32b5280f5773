# IMDSv2 required (Checkov CKV_AWS_79): metadata_options must exist and either disable the
# endpoint or set http_tokens = "required"; an unresolved http_tokens is not reported.
package railyard.aws_ec2_imdsv2

tf_types := ["aws_instance", "aws_launch_template", "aws_launch_configuration"]

imdsv2(cfg) if {
	mo := data.lib.core.block(cfg, "metadata_options")
	object.get(mo, "http_endpoint", "") == "disabled"
}

imdsv2(cfg) if {
	mo := data.lib.core.block(cfg, "metadata_options")
	tokens := object.get(mo, "http_tokens", "optional")
	tokens == "required"
}

imdsv2(cfg) if {
	mo := data.lib.core.block(cfg, "metadata_options")
	data.lib.core.unknown(object.get(mo, "http_tokens", "optional"))
}

deny contains f if {
	some t in tf_types
	some r in data.lib.core.resources(t)
	not imdsv2(r.config)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: IMDSv1 is allowed; add metadata_options { http_tokens = \"required\" }", [r.address]),
	}
}

cfn_imdsv2(cfg) if data.lib.core.get(cfg, ["LaunchTemplateData", "MetadataOptions", "HttpEndpoint"], "") == "disabled"

cfn_imdsv2(cfg) if data.lib.core.get(cfg, ["LaunchTemplateData", "MetadataOptions", "HttpTokens"], "") == "required"

cfn_imdsv2(cfg) if data.lib.core.unknown(data.lib.core.get(cfg, ["LaunchTemplateData", "MetadataOptions", "HttpTokens"], ""))

deny contains f if {
	some lt in data.lib.core.resources("AWS::EC2::LaunchTemplate")
	not cfn_imdsv2(lt.config)
	f := {
		"resource": lt.address,
		"id": lt.id,
		"message": sprintf("%s: IMDSv1 is allowed; set LaunchTemplateData.MetadataOptions.HttpTokens: required", [lt.address]),
	}
}
