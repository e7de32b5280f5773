# S3 Block Public Access.
#  * Terraform buckets (Checkov CKV2_AWS_6): a connected aws_s3_bucket_public_access_block with
#    block_public_acls and block_public_policy true.
#  * aws_s3_bucket_public_access_block resources (CKV_AWS_53..56): each of the four settings
#    true; missing means false; an unresolved value is not reported.
#  * CloudFormation buckets (CKV_AWS_53..56): PublicAccessBlockConfiguration, all four true.
package railyard.aws_s3_public_access_block

tf_settings := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

cfn_settings := ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]

protected(b) if {
	some pab in data.lib.aws.bucket_configs("aws_s3_bucket_public_access_block", b)
	data.lib.core.is_true(object.get(pab.config, "block_public_acls", false))
	data.lib.core.is_true(object.get(pab.config, "block_public_policy", false))
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	not protected(b)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: no aws_s3_bucket_public_access_block with block_public_acls and block_public_policy = true; add one for this bucket", [b.address]),
	}
}

deny contains f if {
	some pab in data.lib.core.resources("aws_s3_bucket_public_access_block")
	off := [s |
		some s in tf_settings
		v := object.get(pab.config, s, false)
		not data.lib.core.is_true(v)
		not data.lib.core.unknown(v)
	]
	count(off) > 0
	f := {
		"resource": pab.address,
		"id": pab.id,
		"message": sprintf("%s: %s not set to true; set all four public access block settings to true", [pab.address, concat(", ", off)]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("AWS::S3::Bucket")
	pabc := object.get(b.config, "PublicAccessBlockConfiguration", {})
	not data.lib.core.unknown(pabc)
	off := [s |
		some s in cfn_settings
		v := object.get(data.lib.core.object_or_empty(pabc), s, false)
		not data.lib.core.is_true(v)
		not data.lib.core.unknown(v)
	]
	count(off) > 0
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: PublicAccessBlockConfiguration does not set %s to true; set all four to true", [b.address, concat(", ", off)]),
	}
}
