resource "aws_cloudtrail" "regional" {
  name                       = "regional"
  s3_bucket_name             = "acme-trail"
  enable_log_file_validation = true
  kms_key_id                 = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

resource "aws_cloudtrail" "single" {
  name                  = "single"
  s3_bucket_name        = "acme-trail"
  is_multi_region_trail = false
}
