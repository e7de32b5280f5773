variable "extra_tags" {
  type = map(string)
}

resource "aws_s3_bucket" "receipts" {
  bucket = "acme-receipts"
}

resource "aws_sqs_queue" "events" {
  name = "payment-events"
  tags = {
    service = "ledger"
  }
}

resource "aws_sns_topic" "alerts" {
  provider = aws.us
  name     = "alerts"
  tags     = merge(var.extra_tags, { service = "alerting" })
}

resource "aws_s3_bucket_versioning" "receipts" {
  bucket = aws_s3_bucket.receipts.id
  versioning_configuration {
    status = "Enabled"
  }
}
