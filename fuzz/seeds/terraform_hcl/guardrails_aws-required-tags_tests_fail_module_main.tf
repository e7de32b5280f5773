provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      environment = "staging"
    }
  }
}

locals {
  common_tags = {
    owner       = "search"
    environment = "staging"
  }
}

resource "aws_instance" "search" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.large"
  tags          = local.common_tags
}

resource "aws_s3_bucket" "index" {
  bucket = "acme-search-index"
}

resource "aws_lambda_function" "indexer" {
  function_name = "indexer"
  role          = "arn:aws:iam::111122223333:role/indexer"
  handler       = "main.handler"
  runtime       = "python3.12"
  filename      = "indexer.zip"

  tags = {
    Owner = ""
  }
}
