provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      Owner       = "payments"
      Environment = "prod"
    }
  }
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
