# DynamoDB point-in-time recovery (Checkov CKV_AWS_28). Missing means disabled; a value only
# known at deploy time is not reported.
package railyard.aws_dynamodb_pitr

deny contains f if {
	some t in data.lib.core.resources("aws_dynamodb_table")
	v := object.get(data.lib.core.first_block(t.config, "point_in_time_recovery"), "enabled", false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: point-in-time recovery is not enabled; add point_in_time_recovery { enabled = true }", [t.address]),
	}
}

deny contains f if {
	some t in data.lib.core.resources("AWS::DynamoDB::Table")
	v := object.get(t.config, ["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"], false)
	not data.lib.core.is_true(v)
	not data.lib.core.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: point-in-time recovery is not enabled; set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true", [t.address]),
	}
}
