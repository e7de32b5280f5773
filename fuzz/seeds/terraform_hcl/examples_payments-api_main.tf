# payments-api: the card-payments HTTP service of the payments team.
# Receipts go to S3, ledger state lives in PostgreSQL (RDS); the service is reached on 443 only.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }

  backend "s3" {
    bucket         = "acme-terraform-state"
    key            = "payments/payments-api/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "terraform-locks"
    encrypt        = true
  }
}

# Credentials come from the default chain (CI role / SSO profile), never from this file.
provider "aws" {
  region = var.region
}

locals {
  name = "payments-api-${var.environment}"

  tags = {
    owner       = "payments"
    environment = var.environment
    service     = "payments-api"
    cost-center = "cc-4120"
  }
}

# Customer managed key for the receipts bucket and the database.
resource "aws_kms_key" "payments" {
  description             = "payments-api data at rest (${var.environment})"
  deletion_window_in_days = 30
  enable_key_rotation     = true

  tags = local.tags
}

resource "aws_kms_alias" "payments" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.payments.key_id
}
