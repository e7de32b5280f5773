# S3 server access logging (Checkov CKV_AWS_18): an inline `logging` block, a connected
# (referencing: the logged bucket, and like Checkov also the target log bucket)
# aws_s3_bucket_logging resource, or CloudFormation LoggingConfiguration.
package railyard.aws_s3_access_logging

logged(b) if count(data.lib.core.blocks(b.config, "logging")) > 0

logged(b) if count(data.lib.aws.bucket_configs("aws_s3_bucket_logging", b)) > 0

deny contains f if {
	some b in data.lib.core.resources("aws_s3_bucket")
	not logged(b)
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: server access logging is not enabled; add an aws_s3_bucket_logging resource with a target_bucket", [b.address]),
	}
}

deny contains f if {
	some b in data.lib.core.resources("AWS::S3::Bucket")
	object.get(b.config, "LoggingConfiguration", null) == null
	f := {
		"resource": b.address,
		"id": b.id,
		"message": sprintf("%s: server access logging is not enabled; set LoggingConfiguration.DestinationBucketName", [b.address]),
	}
}
