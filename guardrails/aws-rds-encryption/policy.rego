# RDS storage encryption (Checkov CKV_AWS_16). Missing means unencrypted; a value only known at
# deploy time is not reported; CloudFormation Aurora instances are skipped (cluster-level).
package railyard.aws_rds_encryption

deny contains f if {
	some db in data.lib.core.resources("aws_db_instance")
	v := object.get(db.config, "storage_encrypted", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": db.address,
		"id": db.id,
		"field": "storage_encrypted",
		"message": sprintf("%s: storage is not encrypted; set storage_encrypted = true (and kms_key_id)", [db.address]),
	}
}

deny contains f if {
	some db in data.lib.core.resources("AWS::RDS::DBInstance")
	not aurora(db.config)
	v := object.get(db.config, "StorageEncrypted", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": db.address,
		"id": db.id,
		"field": "StorageEncrypted",
		"message": sprintf("%s: storage is not encrypted; set StorageEncrypted: true (and KmsKeyId)", [db.address]),
	}
}

aurora(cfg) if {
	is_string(cfg.Engine)
	contains(lower(cfg.Engine), "aurora")
}
