# CloudTrail encrypted with KMS (Checkov CKV_AWS_35): kms_key_id (KMSKeyId) set to any value.
package railyard.aws_cloudtrail_kms_encryption

has_key(cfg, k) if {
	v := object.get(cfg, k, null)
	v != null
	v != ""
}

deny contains f if {
	some t in data.lib.core.resources("aws_cloudtrail")
	not has_key(t.config, "kms_key_id")
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: log files are not encrypted with a KMS key; set kms_key_id to a customer managed key", [t.address]),
	}
}

deny contains f if {
	some t in data.lib.core.resources("AWS::CloudTrail::Trail")
	not has_key(t.config, "KMSKeyId")
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: log files are not encrypted with a KMS key; set KMSKeyId to a customer managed key", [t.address]),
	}
}
