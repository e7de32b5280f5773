# Payment receipts (PDF) kept for the auditors. AWS provider v4+ style: the bucket's settings
# are separate resources that refer to it.

resource "aws_s3_bucket" "receipts" {
  bucket = "acme-${local.name}-receipts"

  tags = local.tags
}

resource "aws_s3_bucket_server_side_encryption_configuration" "receipts" {
  bucket = aws_s3_bucket.receipts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.payments.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "receipts" {
  bucket = aws_s3_bucket.receipts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "receipts" {
  bucket = aws_s3_bucket.receipts.id

  target_bucket = var.access_log_bucket
  target_prefix = "${local.name}/receipts/"
}

resource "aws_s3_bucket_ownership_controls" "receipts" {
  bucket = aws_s3_bucket.receipts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}
