# No "all traffic" ingress from 0.0.0.0/0 or ::/0 (Checkov CKV_AWS_277): protocol -1/all
# (whatever its ports), TCP/UDP ports -1, or an unknown protocol over every port (not ICMP
# -1..-1, which Checkov reports: that is every ICMP type, not every protocol). Terraform only, like Checkov (CloudFormation has no
# CKV_AWS_277); the SSH and RDP guardrails cover CloudFormation port ranges.
package railyard.aws_sg_no_public_all_ports

deny contains f if {
	some rule in data.lib.aws.sg_ingress_rules
	data.lib.core.terraform(rule.resource)
	data.lib.aws.all_traffic(rule)
	data.lib.aws.open_to_world(rule)
	f := {
		"resource": rule.resource.address,
		"id": rule.resource.id,
		"message": sprintf("%s: ingress allows all traffic (protocol %v, ports %v-%v) from the internet; allow only the ports and sources you need", [rule.resource.address, rule.protocol, rule.from, rule.to]),
	}
}
