# S3 default encryption, when declared, uses AES256 or aws:kms (Checkov CKV_AWS_19 semantics:
# a bucket without any encryption configuration relies on S3's default SSE-S3 and passes).
package railyard.aws_s3_encryption

ok_algorithms := {"AES256", "aws:kms", "aws:kms:dsse"}

# Algorithms declared in a Terraform server_side_encryption_configuration (inline block or the
# separate resource, both shaped rule -> apply_server_side_encryption_by_default). A default
# block without `sse_algorithm` (required; Terraform rejects it, Checkov fails it) declares
# no supported algorithm: "(none)".
algorithms(cfg) := [a |
	some rule in data.lib.core.blocks(cfg, "rule")
	some d in data.lib.core.blocks(rule, "apply_server_side_encryption_by_default")
	a := object.get(d, "sse_algorithm", "(none)")
]

inline_algorithms(bucket) := [a |
	some sse in data.lib.core.blocks(bucket.config, "server_side_encryption_configuration")
	some a in algorithms(sse)
]

bad(a) if {
	a != null
	not data.lib.core.unknown(a)
	not a in ok_algorithms
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	some a in inline_algorithms(b)
	bad(a)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: server-side encryption algorithm %v is not AES256 or aws:kms; set sse_algorithm = \"aws:kms\" (or \"AES256\")", [b.address, a]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	count(inline_algorithms(b)) == 0
	some c in data.lib.aws.bucket_configs("aws_s3_bucket_server_side_encryption_configuration", b)
	some a in algorithms(c.config)
	bad(a)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: %s sets encryption algorithm %v, which is not AES256 or aws:kms; set sse_algorithm = \"aws:kms\" (or \"AES256\")", [b.address, c.address, a]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("AWS::S3::Bucket")
	some rule in data.lib.core.as_list(object.get(b.config, ["BucketEncryption", "ServerSideEncryptionConfiguration"], []))
	a := data.lib.core.get(rule, ["ServerSideEncryptionByDefault", "SSEAlgorithm"], null)
	bad(a)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: BucketEncryption uses SSEAlgorithm %v, not AES256 or aws:kms; set SSEAlgorithm: aws:kms (or AES256)", [b.address, a]),
	}
}
