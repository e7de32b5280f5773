variable "publicly_accessible" {
  type    = bool
  default = false
}

resource "aws_db_subnet_group" "private" {
  name       = "private"
  subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}

resource "aws_db_instance" "app" {
  identifier           = "app"
  engine               = "postgres"
  instance_class       = "db.t4g.small"
  allocated_storage    = 20
  db_subnet_group_name = aws_db_subnet_group.private.name
  publicly_accessible  = var.publicly_accessible
  storage_encrypted    = true
}

resource "aws_rds_cluster_instance" "reader" {
  identifier         = "app-reader"
  cluster_identifier = "app-cluster"
  instance_class     = "db.r6g.large"
  engine             = "aurora-postgresql"
}
