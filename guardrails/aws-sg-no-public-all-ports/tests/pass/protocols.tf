# Open to the internet, but one protocol only: not "all traffic".
resource "aws_security_group" "ping" {
  name = "ping"

  ingress {
    description = "every ICMP type and code"
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "every UDP port"
    from_port   = 0
    to_port     = 65535
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "icmpv6_all_types" {
  type              = "ingress"
  security_group_id = aws_security_group.ping.id
  from_port         = -1
  to_port           = -1
  protocol          = "icmpv6"
  ipv6_cidr_blocks  = ["::/0"]
}
