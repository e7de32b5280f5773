# S3 default encryption with KMS (Checkov CKV_AWS_145), Terraform and plan JSON.
package railyard.aws_s3_kms_encryption

kms := {"aws:kms", "aws:kms:dsse"}

algorithms(cfg) := [a |
	some rule in data.lib.core.blocks(cfg, "rule")
	some d in data.lib.core.blocks(rule, "apply_server_side_encryption_by_default")
	a := object.get(d, "sse_algorithm", null)
]

kms_encrypted(b) if {
	some sse in data.lib.core.blocks(b.config, "server_side_encryption_configuration")
	some a in algorithms(sse)
	a in kms
}

kms_encrypted(b) if {
	some c in data.lib.aws.bucket_configs("aws_s3_bucket_server_side_encryption_configuration", b)
	some a in algorithms(c.config)
	a in kms
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	not kms_encrypted(b)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: default encryption is not aws:kms; add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = \"aws:kms\"", [b.address]),
	}
}
