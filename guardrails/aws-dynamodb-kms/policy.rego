# DynamoDB encryption with a customer managed KMS key (Checkov CKV_AWS_119): enabled and a key.
package railyard.aws_dynamodb_kms

cmk_encrypted(t) if {
	sse := data.lib.core.block(t.config, "server_side_encryption")
	data.lib.core.is_true(object.get(sse, "enabled", false))
	object.get(sse, "kms_key_arn", null) != null
}

deny contains f if {
	some t in data.lib.core.resources("aws_dynamodb_table")
	not cmk_encrypted(t)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: not encrypted with a customer managed KMS key; add server_side_encryption { enabled = true, kms_key_arn = ... }", [t.address]),
	}
}

cfn_cmk_encrypted(t) if {
	sse := t.config.SSESpecification
	enabled := object.get(sse, "SSEEnabled", false)
	not data.lib.core.is_false(enabled)
	enabled != false
	object.get(sse, "KMSMasterKeyId", null) != null
}

deny contains f if {
	some t in data.lib.core.resources("AWS::DynamoDB::Table")
	not cfn_cmk_encrypted(t)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: not encrypted with a customer managed KMS key; set SSESpecification SSEEnabled: true and KMSMasterKeyId", [t.address]),
	}
}
