# No public S3 ACLs (Checkov CKV_AWS_20 public read, CKV_AWS_57 public write).
package railyard.aws_s3_no_public_acl

public_canned := {"public-read", "public-read-write", "authenticated-read", "website"}

# CloudFormation's names for the same canned ACLs. `AuthenticatedRead` grants READ to every AWS
# account in the world, as Terraform's `authenticated-read` does (Checkov's CloudFormation
# CKV_AWS_20 misses it; its Terraform form has it).
public_canned_cfn := {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}

public_groups := {"http://acs.amazonaws.com/groups/global/AllUsers"}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	acl := object.get(b.config, "acl", null)
	acl in public_canned
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: acl = %v makes the bucket public; use acl = \"private\"", [b.address, acl]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	some a in data.lib.aws.bucket_configs("aws_s3_bucket_acl", b)
	acl := object.get(a.config, "acl", null)
	acl in public_canned
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: %s sets acl = %v, which makes the bucket public; use \"private\"", [b.address, a.address, acl]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	some a in data.lib.aws.bucket_configs("aws_s3_bucket_acl", b)
	some acp in data.lib.core.blocks(a.config, "access_control_policy")
	some g in data.lib.core.blocks(acp, "grant")
	some grantee in data.lib.core.blocks(g, "grantee")
	object.get(grantee, "uri", "") in public_groups
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: %s grants %v to AllUsers (everyone); remove the grant", [b.address, a.address, object.get(g, "permission", "access")]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	some g in data.lib.core.blocks(b.config, "grant")
	object.get(g, "uri", "") in public_groups
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: a grant gives %v to AllUsers (everyone); remove the grant", [b.address, object.get(g, "permissions", "access")]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("AWS::S3::Bucket")
	acl := object.get(b.config, "AccessControl", null)
	acl in public_canned_cfn
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: AccessControl: %s makes the bucket public; use Private", [b.address, acl]),
	}
}
