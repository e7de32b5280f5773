# No hard-coded AWS credentials in provider blocks (Checkov CKV_AWS_41): the same patterns as
# Checkov, anchored at the start of the value.
package railyard.aws_provider_no_hardcoded_credentials

import data.lib.railyard

patterns := {
	"access_key": `^[A-Z0-9]{20}([^A-Z0-9]|$)`,
	"secret_key": `^[A-Za-z0-9/+=]{40}([^A-Za-z0-9/+=]|$)`,
}

deny contains f if {
	some p in railyard.providers("aws")
	some key, pattern in patterns
	v := object.get(p.config, key, null)
	is_string(v)
	regex.match(pattern, v)
	f := {
		"resource": p.address,
		"id": p.id,
		"message": sprintf("%s: %s is hard-coded; remove it and use the default credential chain (env, profile, SSO, role), then rotate the key", [p.address, key]),
	}
}
