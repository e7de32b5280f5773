# EBS volume encryption (Checkov CKV_AWS_3). Missing means unencrypted; a value only known at
# deploy time is not reported.
package railyard.aws_ebs_volume_encryption

deny contains f if {
	some v in data.lib.core.resources("aws_ebs_volume")
	e := object.get(v.config, "encrypted", false)
	not data.lib.core.is_true(e)
	not data.lib.core.unknown(e)
	f := {
		"resource": v.address,
		"id": v.id,
		"field": "encrypted",
		"message": sprintf("%s: EBS volume is not encrypted; set encrypted = true (and kms_key_id)", [v.address]),
	}
}

deny contains f if {
	some v in data.lib.core.resources("AWS::EC2::Volume")
	e := object.get(v.config, "Encrypted", false)
	not data.lib.core.is_true(e)
	not data.lib.core.unknown(e)
	f := {
		"resource": v.address,
		"id": v.id,
		"field": "Encrypted",
		"message": sprintf("%s: EBS volume is not encrypted; set Encrypted: true (and KmsKeyId)", [v.address]),
	}
}
