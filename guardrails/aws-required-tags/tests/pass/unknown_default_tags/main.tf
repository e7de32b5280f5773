# The provider's default_tags are only known at plan time: the bucket's tags are unknown,
# not missing, so it is not reported.
variable "tags" {}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = var.tags
  }
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
}
