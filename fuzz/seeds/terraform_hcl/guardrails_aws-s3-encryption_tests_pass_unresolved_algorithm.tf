variable "sse_algorithm" {
  type = string
}

resource "aws_s3_bucket" "data" {
  bucket = "acme-data-lake"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = var.sse_algorithm
    }
  }
}
