resource "aws_s3_bucket" "media" {
  bucket = "acme-media"
}

resource "aws_s3_bucket_versioning" "media" {
  bucket = aws_s3_bucket.media.id
  versioning_configuration {
    status = "Suspended"
  }
}

resource "aws_s3_bucket" "tmp" {
  bucket = "acme-tmp"
}

resource "aws_s3_bucket" "old" {
  bucket = "acme-old"
  versioning {
    enabled = false
  }
}

resource "aws_s3_bucket" "good" {
  bucket = "acme-good"
}

resource "aws_s3_bucket_versioning" "good" {
  bucket = aws_s3_bucket.good.bucket
  versioning_configuration {
    status = "Enabled"
  }
}
