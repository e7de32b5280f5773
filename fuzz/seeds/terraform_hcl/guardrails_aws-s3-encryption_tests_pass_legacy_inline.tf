resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy-reports"
  acl    = "private"

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }

  tags = {
    owner       = "reporting"
    environment = "prod"
  }
}
