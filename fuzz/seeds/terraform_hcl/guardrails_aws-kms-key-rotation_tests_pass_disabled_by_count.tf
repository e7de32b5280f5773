# A key guarded by a feature flag that defaults to off: count resolves to 0, so no key is
# created and nothing can be reported (Terraform and Checkov agree).
variable "with_legacy_key" {
  type    = bool
  default = false
}

resource "aws_kms_key" "legacy" {
  count               = var.with_legacy_key ? 1 : 0
  description         = "old key, only for restores"
  enable_key_rotation = false
}
