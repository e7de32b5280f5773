# No hard-coded AWS credentials in provider blocks (Checkov CKV_AWS_41): the same patterns as
# Checkov, anchored at the start of the value.
package railyard.aws_provider_no_hardcoded_credentials

patterns := {
	"access_key": `^[A-Z0-9]{20}([^A-Z0-9]|$)`,
	"secret_key": `^[A-Za-z0-9/+=]{40}([^A-Za-z0-9/+=]|$)`,
}

# The hard-coded keys of one provider block, in a stable order.
hardcoded(p) := [key |
	some key in ["access_key", "secret_key"]
	v := object.get(p.config, key, null)
	is_string(v)
	regex.match(patterns[key], v)
]

# One finding per provider block, naming every hard-coded key (an access key and its secret in
# the same block are one problem to fix, not two).
deny contains f if {
	some p in data.lib.core.providers("aws")
	keys := hardcoded(p)
	count(keys) > 0
	f := {
		"resource": p.address,
		"id": p.id,
		"message": sprintf("%s: %s %s hard-coded; remove %s and use the default credential chain (env, profile, SSO, role), then rotate the key", [p.address, concat(" and ", keys), verb(keys), pronoun(keys)]),
	}
}

verb(keys) := "is" if count(keys) == 1 else := "are"

pronoun(keys) := "it" if count(keys) == 1 else := "them"
