# No "all traffic" ingress from 0.0.0.0/0 or ::/0 (Checkov CKV_AWS_277): protocol -1/all
# (whatever its ports), TCP/UDP ports -1, or an unknown protocol over every port (not ICMP
# -1..-1, which Checkov reports: that is every ICMP type, not every protocol). Terraform only, like Checkov (CloudFormation has no
# CKV_AWS_277); the SSH and RDP guardrails cover CloudFormation port ranges.
package railyard.aws_sg_no_public_all_ports

import data.lib.railyard

deny contains f if {
	some rule in data.lib.railyard.sg_ingress_rules
	railyard.terraform(rule.resource)
	railyard.all_traffic(rule)
	railyard.open_to_world(rule)
	f := {
		"resource": rule.resource.address,
		"id": rule.resource.id,
		"message": sprintf("%s: ingress allows all traffic (protocol %v, ports %v-%v) from the internet; allow only the ports and sources you need", [rule.resource.address, rule.protocol, rule.from, rule.to]),
	}
}
