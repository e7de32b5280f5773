# S3 versioning enabled (Checkov CKV_AWS_21): inline `versioning.enabled = true`, or a connected
# aws_s3_bucket_versioning with status "Enabled"; CloudFormation VersioningConfiguration.Status.
package railyard.aws_s3_versioning

versioned(b) if {
	some v in data.lib.core.blocks(b.config, "versioning")
	data.lib.core.is_true(object.get(v, "enabled", false))
}

versioned(b) if {
	some c in data.lib.aws.bucket_configs("aws_s3_bucket_versioning", b)
	some vc in data.lib.core.blocks(c.config, "versioning_configuration")
	vc.status == "Enabled"
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	not versioned(b)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: versioning is not enabled; add an aws_s3_bucket_versioning resource with status = \"Enabled\"", [b.address]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("AWS::S3::Bucket")
	status := object.get(b.config, ["VersioningConfiguration", "Status"], null)
	status != "Enabled"
	not data.lib.core.unknown(status)
	f := {
		"resource": b.address,
		"id": b.id,
		"field": "VersioningConfiguration.Status",
		"message": sprintf("%s: versioning is not enabled; set VersioningConfiguration.Status: Enabled", [b.address]),
	}
}
