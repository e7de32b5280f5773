variable "name_prefix" {
  type    = string
  default = "acme-payments"
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key used for default bucket encryption"
}
