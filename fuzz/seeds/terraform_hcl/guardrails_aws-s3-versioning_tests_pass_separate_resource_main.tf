variable "environment" {
  type    = string
  default = "prod"
}

locals {
  name = "acme-${var.environment}-state"
}

resource "aws_s3_bucket" "state" {
  bucket = local.name

  tags = {
    owner       = "platform"
    environment = var.environment
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}
