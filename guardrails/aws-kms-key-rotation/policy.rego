# KMS key rotation (Checkov CKV_AWS_7). Keys whose spec is asymmetric (not SYMMETRIC_DEFAULT or
# HMAC) are skipped; missing means disabled; an unresolved value is not reported.
package railyard.aws_kms_key_rotation

rotatable(spec) if spec == null

rotatable(spec) if {
	is_string(spec)
	contains(spec, "SYMMETRIC_DEFAULT")
}

rotatable(spec) if {
	is_string(spec)
	contains(spec, "HMAC")
}

deny contains f if {
	some k in data.lib.core.resources("aws_kms_key")
	rotatable(object.get(k.config, "customer_master_key_spec", object.get(k.config, "key_spec", null)))
	v := object.get(k.config, "enable_key_rotation", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": k.address,
		"id": k.id,
		"field": "enable_key_rotation",
		"message": sprintf("%s: automatic key rotation is off; set enable_key_rotation = true", [k.address]),
	}
}

deny contains f if {
	some k in data.lib.core.resources("AWS::KMS::Key")
	rotatable(object.get(k.config, "KeySpec", null))
	v := object.get(k.config, "EnableKeyRotation", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": k.address,
		"id": k.id,
		"field": "EnableKeyRotation",
		"message": sprintf("%s: automatic key rotation is off; set EnableKeyRotation: true", [k.address]),
	}
}
