resource "aws_ebs_volume" "scratch" {
  availability_zone = "eu-west-1a"
  size              = 500
}

resource "aws_ebs_volume" "cache" {
  availability_zone = "eu-west-1b"
  size              = 50
  encrypted         = false
}

resource "aws_ebs_volume" "ok" {
  availability_zone = "eu-west-1b"
  size              = 50
  encrypted         = true
}
