resource "aws_instance" "bastion" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.micro"
}

resource "aws_instance" "db" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "r6i.large"

  root_block_device {
    encrypted = true
  }

  ebs_block_device {
    device_name = "/dev/sdf"
    volume_size = 500
    encrypted   = false
  }
}

resource "aws_launch_configuration" "legacy" {
  image_id      = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.micro"

  root_block_device {
    encrypted = false
  }
}

# An empty root_block_device sets nothing: the root volume is the default, unencrypted one.
resource "aws_instance" "empty_root" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"

  root_block_device {}
}
