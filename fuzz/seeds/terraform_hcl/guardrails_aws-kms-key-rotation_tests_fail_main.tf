resource "aws_kms_key" "logs" {
  description             = "log encryption"
  deletion_window_in_days = 7
}

resource "aws_kms_key" "backups" {
  description         = "backups"
  enable_key_rotation = false
}

resource "aws_kms_key" "rotated" {
  description         = "rotated"
  enable_key_rotation = true
}
