# The public access block is switched off by its flag (count = 0), so it protects nothing
# and the bucket is reported; the block itself does not exist and is not reported.
variable "restrict_public" {
  default = false
}

resource "aws_s3_bucket" "reports" {
  bucket = "quarterly-reports"
}

resource "aws_s3_bucket_public_access_block" "reports" {
  count  = var.restrict_public ? 1 : 0
  bucket = aws_s3_bucket.reports.id

  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = true
}
