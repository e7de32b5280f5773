variable "env" {
  type        = string
  description = "Deployment environment"
  default     = "dev"
}

variable "bucket_prefix" {
  type    = string
  default = "acme"
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}
