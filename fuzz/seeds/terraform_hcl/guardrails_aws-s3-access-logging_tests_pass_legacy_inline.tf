variable "log_bucket" {
  type    = string
  default = "acme-central-audit-logs"
}

resource "aws_s3_bucket" "reports" {
  bucket = "acme-reports"

  logging {
    target_bucket = var.log_bucket
    target_prefix = "reports/"
  }
}
