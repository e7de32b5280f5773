variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "aws_access_key" {
  type      = string
  sensitive = true
}

provider "aws" {
  region  = var.region
  profile = "deploy"

  default_tags {
    tags = {
      owner       = "platform"
      environment = "prod"
    }
  }
}

provider "aws" {
  alias      = "local"
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  endpoints {
    s3 = "http://localhost:4566"
  }
}

provider "aws" {
  alias      = "legacy"
  region     = "us-west-2"
  access_key = var.aws_access_key
}
