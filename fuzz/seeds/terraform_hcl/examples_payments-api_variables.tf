variable "region" {
  description = "AWS region of the service"
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Deployment environment (dev, staging, prod)"
  type        = string
  default     = "prod"
}

variable "vpc_id" {
  description = "VPC the service runs in (shared network account)"
  type        = string
  default     = "vpc-0a1b2c3d4e5f67890"
}

variable "private_subnet_ids" {
  description = "Private subnets for the database"
  type        = list(string)
  default     = ["subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88"]
}

variable "load_balancer_cidr" {
  description = "CIDR of the internal load balancer subnets allowed to reach the service"
  type        = string
  default     = "10.20.0.0/22"
}

variable "access_log_bucket" {
  description = "Central S3 server access log bucket (owned by the platform team)"
  type        = string
  default     = "acme-s3-access-logs-eu-west-1"
}

variable "db_instance_class" {
  description = "RDS instance class of the ledger database"
  type        = string
  default     = "db.t4g.medium"
}
