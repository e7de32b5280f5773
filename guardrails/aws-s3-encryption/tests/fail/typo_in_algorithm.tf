resource "aws_s3_bucket" "uploads" {
  bucket = "acme-user-uploads"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES-256"
    }
  }
}

resource "aws_s3_bucket" "ok" {
  bucket = "acme-ok"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }
}

resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "kms"
      }
    }
  }
}

# A default-encryption rule without sse_algorithm (required): no supported algorithm declared.
resource "aws_s3_bucket" "no_algorithm" {
  bucket = "acme-no-algorithm"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "no_algorithm" {
  bucket = aws_s3_bucket.no_algorithm.bucket

  rule {
    apply_server_side_encryption_by_default {
      kms_master_key_id = "arn:aws:kms:us-east-1:111122223333:key/abcd"
    }
  }
}
