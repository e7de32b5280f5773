locals {
  bucket_name = "${var.name_prefix}-artifacts"
}

resource "aws_s3_bucket" "artifacts" {
  bucket = local.bucket_name
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

# No explicit configuration: S3 applies SSE-S3 by default.
resource "aws_s3_bucket" "scratch" {
  bucket_prefix = "${var.name_prefix}-scratch-"
}
