# No IAM statement allowing "*" actions on "*" resources (Checkov CKV_AWS_1 for
# aws_iam_policy_document, CKV_AWS_62 for policy resources and CloudFormation).
# Policies that are unresolved expressions (e.g. a data source's .json) are judged where the
# document is defined; text that is not valid JSON is skipped.
package railyard.aws_iam_no_admin_policy

tf_types := [
	"aws_iam_policy",
	"aws_iam_role_policy",
	"aws_iam_user_policy",
	"aws_iam_group_policy",
	"aws_ssoadmin_permission_set_inline_policy",
]

admin_document(doc) if {
	some s in data.lib.aws.statements(doc)
	s.Action
	data.lib.aws.admin_statement(s)
}

deny contains f if {
	some t in tf_types
	some r in data.lib.core.resources(t)
	some key in ["policy", "inline_policy"]
	doc := data.lib.aws.policy_document(object.get(r.config, key, null))
	admin_document(doc)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: the policy allows \"*\" actions on \"*\" resources (full admin); grant only the actions and resources needed", [r.address]),
	}
}

deny contains f if {
	some d in data.lib.core.data_sources("aws_iam_policy_document")
	some s in data.lib.core.blocks(d.config, "statement")
	object.get(s, "effect", "Allow") == "Allow"
	"*" in data.lib.core.as_list(object.get(s, "actions", []))
	"*" in data.lib.core.as_list(object.get(s, "resources", []))
	f := {
		"resource": d.address,
		"id": d.id,
		"message": sprintf("%s: a statement allows actions [\"*\"] on resources [\"*\"] (full admin); list the actions and resources needed", [d.address]),
	}
}

deny contains f if {
	some r in data.lib.core.resources("AWS::IAM::Policy")
	admin_document(data.lib.aws.policy_document(object.get(r.config, "PolicyDocument", null)))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: PolicyDocument allows \"*\" actions on \"*\" resources (full admin); grant only what is needed", [r.address]),
	}
}

deny contains f if {
	some t in ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"]
	some r in data.lib.core.resources(t)
	some p in data.lib.core.as_list(object.get(r.config, "Policies", []))
	is_object(p)
	admin_document(data.lib.aws.policy_document(object.get(p, "PolicyDocument", null)))
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: inline policy %v allows \"*\" actions on \"*\" resources (full admin); grant only what is needed", [r.address, object.get(p, "PolicyName", "")]),
	}
}
