# DynamoDB point-in-time recovery (Checkov CKV_AWS_28). Missing means disabled; a value only
# known at deploy time is not reported.
package railyard.aws_dynamodb_pitr

import data.lib.railyard

deny contains f if {
	some t in railyard.resources("aws_dynamodb_table")
	v := object.get(railyard.first_block(t.config, "point_in_time_recovery"), "enabled", false)
	not railyard.is_true(v)
	not railyard.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: point-in-time recovery is not enabled; add point_in_time_recovery { enabled = true }", [t.address]),
	}
}

deny contains f if {
	some t in railyard.resources("AWS::DynamoDB::Table")
	v := object.get(t.config, ["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"], false)
	not railyard.is_true(v)
	not railyard.unknown(v)
	f := {
		"resource": t.address,
		"id": t.id,
		"message": sprintf("%s: point-in-time recovery is not enabled; set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true", [t.address]),
	}
}
