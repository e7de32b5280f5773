# Ledger database: PostgreSQL in private subnets, encrypted with the service's key.

resource "aws_db_subnet_group" "ledger" {
  name       = "${local.name}-ledger"
  subnet_ids = var.private_subnet_ids

  tags = local.tags
}

resource "aws_db_instance" "ledger" {
  identifier     = "${local.name}-ledger"
  engine         = "postgres"
  engine_version = "16.3"
  instance_class = var.db_instance_class

  allocated_storage     = 50
  max_allocated_storage = 200
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.payments.arn

  db_name  = "ledger"
  username = "payments_admin"
  # The master password is generated and kept in Secrets Manager by RDS.
  manage_master_user_password = true

  db_subnet_group_name   = aws_db_subnet_group.ledger.name
  vpc_security_group_ids = [aws_security_group.ledger.id]
  publicly_accessible    = false
  multi_az               = true

  backup_retention_period   = 14
  deletion_protection       = true
  copy_tags_to_snapshot     = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-ledger-final"

  iam_database_authentication_enabled = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.payments.arn

  tags = local.tags
}
