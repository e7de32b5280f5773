# Mandatory tags `owner` and `environment` on taggable AWS resources (no Checkov equivalent).
package railyard.aws_required_tags

required := ["owner", "environment"]

taggable := {
	"aws_s3_bucket", "aws_instance", "aws_db_instance", "aws_rds_cluster", "aws_dynamodb_table",
	"aws_ebs_volume", "aws_security_group", "aws_vpc", "aws_subnet", "aws_lambda_function",
	"aws_kms_key", "aws_sqs_queue", "aws_sns_topic", "aws_ecs_cluster", "aws_ecs_service",
	"aws_eks_cluster", "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_lb",
	"aws_alb", "aws_cloudtrail", "aws_iam_role", "aws_launch_template", "aws_ecr_repository",
	"aws_efs_file_system", "aws_cloudwatch_log_group", "aws_secretsmanager_secret",
	"aws_opensearch_domain", "aws_elasticsearch_domain", "aws_redshift_cluster", "aws_nat_gateway",
	"aws_internet_gateway", "aws_eip", "aws_api_gateway_rest_api", "aws_apigatewayv2_api",
	"aws_kinesis_stream", "aws_sfn_state_machine", "aws_codebuild_project", "aws_msk_cluster",
	"AWS::S3::Bucket", "AWS::EC2::Instance", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster",
	"AWS::DynamoDB::Table", "AWS::EC2::Volume", "AWS::EC2::SecurityGroup", "AWS::EC2::VPC",
	"AWS::EC2::Subnet", "AWS::Lambda::Function", "AWS::KMS::Key", "AWS::SQS::Queue",
	"AWS::SNS::Topic", "AWS::ECS::Cluster", "AWS::EKS::Cluster",
	"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::CloudTrail::Trail", "AWS::IAM::Role",
	"AWS::ECR::Repository", "AWS::Logs::LogGroup", "AWS::SecretsManager::Secret",
	"AWS::Kinesis::Stream", "AWS::CodeBuild::Project",
}

# Address of the provider configuration a Terraform resource uses. (One definition with
# `else` here and below: regorus evaluates every definition of a function on each call, and
# these run for every resource that lacks a tag.)
provider_address(r) := sprintf("provider.%s", [trim(substring(p, 2, count(p) - 3), " ")]) if {
	p := object.get(r.config, "provider", null)
	is_string(p)
	startswith(p, "${")
	endswith(p, "}")
} else := "provider.aws" if not is_string(object.get(r.config, "provider", null))

# default_tags of that provider: {} when none, undefined when not known statically.
default_tags(r) := {} if {
	r.kind != "terraform"
} else := t if {
	t := inherited_tags(provider_key(r.file, provider_address(r)))
} else := {} if {
	# No provider address (a provider that is not a reference): no provider block either.
	not provider_address(r)
}

inherited_tags(key) := t if {
	t := provider_default_tags[key]
} else := {} if {
	not unknown_provider_tags[key]
}

# A resource's provider block has the same address in the same folder (module): folders of
# one workload may each declare `provider "aws"`. The blocks are indexed by that key once per
# evaluation; looking the block up by scanning every provider for every untagged resource (in
# each of two function definitions) made this guardrail most of a Terraform lab's time.
provider_key(file, address) := sprintf("%s|%s", [folder(file), address])

# The provider blocks by key (the first one in input order where a key repeats).
provider_blocks := {key: ps[0] |
	some key in {provider_key(p.file, p.address) | some p in terraform_providers}
	ps := [p | some p in terraform_providers; provider_key(p.file, p.address) == key]
}

terraform_providers := [p | some p in input.resources; p.mode == "provider"]

# Each provider block's default_tags ({} when none); a block whose tags are not known
# statically is left out, and listed in `unknown_provider_tags`.
provider_default_tags := {key: t |
	some key, p in provider_blocks
	dt := data.lib.core.first_block(p.config, "default_tags")
	t := data.lib.core.object_or_empty(object.get(dt, "tags", {}))
	is_object(t)
}

unknown_provider_tags := {key | some key, _ in provider_blocks; not provider_default_tags[key]}

folder(path) := concat("/", array.slice(parts, 0, count(parts) - 1)) if parts := split(path, "/")

# The keys of `tags` with a value, lowercased (tag keys match case-insensitively): one pass
# over the tags per resource, instead of one per required tag.
tag_keys(tags) := {lower(k) | some k, v in tags; v != ""; v != null}

deny contains f if {
	# By type through the input's index, so resources that take no tags cost nothing; the
	# provider's default_tags are looked up only for resources missing a tag of their own.
	some t in taggable
	some r in data.lib.core.resources(t)
	own := tag_keys(data.lib.core.tags(r))
	own_missing := [k | some k in required; not own[k]]
	count(own_missing) > 0
	inherited := tag_keys(default_tags(r))
	missing := [k | some k in own_missing; not inherited[k]]
	count(missing) > 0
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: missing required tag(s) %s; add them to the resource's tags (or the provider's default_tags)", [r.address, concat(", ", missing)]),
	}
}
