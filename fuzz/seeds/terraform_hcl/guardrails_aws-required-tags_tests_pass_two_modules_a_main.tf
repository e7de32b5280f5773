provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = {
      owner       = "team-a"
      environment = "prod"
    }
  }
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}
