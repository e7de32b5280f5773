resource "aws_dynamodb_table" "default_key" {
  name         = "events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

# enabled without kms_key_arn uses the AWS managed key aws/dynamodb, not a CMK
resource "aws_dynamodb_table" "aws_managed" {
  name         = "audit"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  server_side_encryption {
    enabled = true
  }
}
