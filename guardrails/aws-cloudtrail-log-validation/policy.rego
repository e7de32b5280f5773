# CloudTrail enable_log_file_validation (Checkov CKV_AWS_36). Missing means false; an unresolved value is not reported.
package railyard.aws_cloudtrail_log_validation

deny contains f if {
	some t in data.lib.core.resources("aws_cloudtrail")
	v := object.get(t.config, "enable_log_file_validation", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"field": "enable_log_file_validation",
		"message": sprintf("%s: log file validation is off; set enable_log_file_validation = true", [t.address]),
	}
}

deny contains f if {
	some t in data.lib.core.resources("AWS::CloudTrail::Trail")
	v := object.get(t.config, "EnableLogFileValidation", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"field": "EnableLogFileValidation",
		"message": sprintf("%s: log file validation is off; set EnableLogFileValidation: true", [t.address]),
	}
}
