variable "db_password" {
  type      = string
  sensitive = true
}

resource "aws_kms_key" "rds" {
  description         = "RDS"
  enable_key_rotation = true
}

resource "aws_db_instance" "orders" {
  identifier          = "orders"
  engine              = "postgres"
  engine_version      = "15.4"
  instance_class      = "db.t4g.medium"
  allocated_storage   = 50
  username            = "orders"
  password            = var.db_password
  storage_encrypted   = true
  kms_key_id          = aws_kms_key.rds.arn
  publicly_accessible = false
  skip_final_snapshot = false
}
