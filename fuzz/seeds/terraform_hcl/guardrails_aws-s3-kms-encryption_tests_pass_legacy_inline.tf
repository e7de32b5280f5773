resource "aws_s3_bucket" "records" {
  bucket = "acme-records"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = "alias/acme-s3"
      }
    }
  }
}
