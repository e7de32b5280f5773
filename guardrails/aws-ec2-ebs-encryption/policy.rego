# EC2 instance / launch configuration block device encryption (Checkov CKV_AWS_8):
#  * no root_block_device, or an empty one (`root_block_device {}`): reported (encryption
#    cannot be shown);
#  * a device with encrypted = false and no snapshot_id: reported;
#  * a device without `encrypted` (or unresolved): unknown, not reported.
package railyard.aws_ec2_ebs_encryption

tf_types := ["aws_instance", "aws_launch_configuration"]

deny contains f if {
	some t in tf_types
	some r in data.lib.core.resources(t)
	no_root_settings(r)
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: no root_block_device declared, so the root volume is not known to be encrypted; add root_block_device { encrypted = true }", [r.address]),
	}
}

# No root_block_device, or only empty ones: Terraform creates the default, unencrypted root
# volume (Checkov CKV_AWS_8 treats `root_block_device {}` as absent too).
no_root_settings(r) if {
	every d in data.lib.core.blocks(r.config, "root_block_device") {
		count(d) == 0
	}
}

deny contains f if {
	some t in tf_types
	some r in data.lib.core.resources(t)
	count(data.lib.core.blocks(r.config, "root_block_device")) > 0
	some kind in ["root_block_device", "ebs_block_device"]
	some d in data.lib.core.blocks(r.config, kind)
	data.lib.core.is_false(object.get(d, "encrypted", null))
	object.get(d, "snapshot_id", null) == null
	f := {
		"resource": r.address,
		"id": r.id,
		"message": sprintf("%s: %s %v is not encrypted; set encrypted = true", [r.address, kind, object.get(d, "device_name", "(root)")]),
	}
}

deny contains f if {
	some lc in data.lib.core.resources("AWS::AutoScaling::LaunchConfiguration")
	some m in data.lib.core.as_list(object.get(lc.config, "BlockDeviceMappings", []))
	is_object(m)
	ebs := object.get(m, "Ebs", null)
	is_object(ebs)
	not data.lib.core.is_true(object.get(ebs, "Encrypted", false))
	not data.lib.core.unknown(object.get(ebs, "Encrypted", false))
	f := {
		"resource": lc.address,
		"id": lc.id,
		"message": sprintf("%s: block device %v is not encrypted; set Ebs.Encrypted: true", [lc.address, object.get(m, "DeviceName", "")]),
	}
}
