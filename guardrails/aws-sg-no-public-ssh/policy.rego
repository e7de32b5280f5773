# No SSH (22) from 0.0.0.0/0 or ::/0 (Checkov CKV_AWS_24). Rules come normalised from
# data.lib.aws.sg_ingress_rules (Terraform inline/standalone rules, CloudFormation).
package railyard.aws_sg_no_public_ssh

deny contains f if {
	some rule in data.lib.aws.sg_ingress_rules
	data.lib.aws.covers_port(rule, 22)
	data.lib.aws.open_to_world(rule)
	f := {
		"resource": rule.resource.address,
		"id": rule.resource.id,
		"message": sprintf("%s: ingress %v %v-%v is open to the internet and includes SSH port 22; restrict the source CIDR or use Session Manager/VPN", [rule.resource.address, rule.protocol, rule.from, rule.to]),
	}
}
