resource "aws_db_instance" "demo" {
  identifier          = "demo"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = true
}

resource "aws_rds_cluster_instance" "analytics" {
  identifier          = "analytics-1"
  cluster_identifier  = "analytics"
  instance_class      = "db.r6g.large"
  engine              = "aurora-mysql"
  publicly_accessible = true
}

resource "aws_db_instance" "internal" {
  identifier          = "internal"
  engine              = "mysql"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = false
}
