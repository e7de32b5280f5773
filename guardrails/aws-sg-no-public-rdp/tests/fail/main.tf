resource "aws_security_group" "jump" {
  name = "windows-jump"

  ingress {
    from_port        = 3389
    to_port          = 3389
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_security_group" "wide" {
  name = "wide-open-high-ports"

  ingress {
    from_port   = 1024
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# RDP's UDP transport listens on UDP 3389 too.
resource "aws_security_group" "rdp_udp" {
  name = "rdp-udp"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_vpc_security_group_ingress_rule" "everything" {
  security_group_id = aws_security_group.rdp_udp.id
  ip_protocol       = "-1"
  cidr_ipv6         = "::/0"
}
