# No RDP (3389) from 0.0.0.0/0 or ::/0 (Checkov CKV_AWS_25). Rules come normalised from
# data.lib.aws.sg_ingress_rules (Terraform inline/standalone rules, CloudFormation).
package railyard.aws_sg_no_public_rdp

# RDP listens on TCP 3389 and, since Windows 8 / Server 2012, on UDP 3389 (its UDP transport).
rdp_port(rule) if data.lib.aws.covers_port(rule, 3389)

rdp_port(rule) if data.lib.aws.covers_udp_port(rule, 3389)

deny contains f if {
	some rule in data.lib.aws.sg_ingress_rules
	rdp_port(rule)
	data.lib.aws.open_to_world(rule)
	f := {
		"resource": rule.resource.address,
		"id": rule.resource.id,
		"message": sprintf("%s: ingress %v %v-%v is open to the internet and includes RDP port 3389; restrict the source CIDR or use Session Manager/VPN", [rule.resource.address, rule.protocol, rule.from, rule.to]),
	}
}
