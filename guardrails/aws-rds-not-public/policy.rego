# RDS not publicly accessible (Checkov CKV_AWS_17): only an explicit true is reported.
package railyard.aws_rds_not_public

tf_types := ["aws_db_instance", "aws_rds_cluster_instance"]

deny contains f if {
	some t in tf_types
	some db in data.lib.core.resources(t)
	data.lib.core.is_true(object.get(db.config, "publicly_accessible", false))
	f := {
		"resource": db.address,
		"id": db.id,
		"field": "publicly_accessible",
		"message": sprintf("%s: publicly_accessible = true exposes the database to the internet; set it to false", [db.address]),
	}
}

deny contains f if {
	some db in data.lib.core.resources("AWS::RDS::DBInstance")
	data.lib.core.is_true(object.get(db.config, "PubliclyAccessible", false))
	f := {
		"resource": db.address,
		"id": db.id,
		"field": "PubliclyAccessible",
		"message": sprintf("%s: PubliclyAccessible: true exposes the database to the internet; set it to false", [db.address]),
	}
}
