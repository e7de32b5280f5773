# Rules open to the internet whose protocol cannot carry SSH (TCP 22).
resource "aws_security_group" "dns" {
  name = "dns"

  ingress {
    description = "DNS, NTP, WireGuard, ...: every UDP port"
    from_port   = 0
    to_port     = 65535
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "ping (ICMP echo request: type 8, code 0)"
    from_port   = 8
    to_port     = 0
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "every ICMPv6 type"
    from_port      = -1
    to_port        = -1
    protocol       = "58"
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_security_group_rule" "udp_22" {
  type              = "ingress"
  security_group_id = aws_security_group.dns.id
  from_port         = 22
  to_port           = 22
  protocol          = "17"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_vpc_security_group_ingress_rule" "icmp_all_types" {
  security_group_id = aws_security_group.dns.id
  from_port         = -1
  to_port           = -1
  ip_protocol       = "icmp"
  cidr_ipv4         = "0.0.0.0/0"
}
