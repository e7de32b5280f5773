resource "aws_security_group" "bastion" {
  name = "bastion"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "legacy" {
  name = "legacy"
}

resource "aws_security_group_rule" "legacy_range" {
  type              = "ingress"
  security_group_id = aws_security_group.legacy.id
  from_port         = 0
  to_port           = 1024
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/8", "0.0.0.0/0"]
}

resource "aws_vpc_security_group_ingress_rule" "ssh_v6" {
  security_group_id = aws_security_group.legacy.id
  from_port         = 22
  to_port           = 22
  ip_protocol       = "tcp"
  cidr_ipv6         = "::/0"
}

resource "aws_security_group_rule" "egress_ssh" {
  type              = "egress"
  security_group_id = aws_security_group.legacy.id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

# Every protocol: AWS ignores the ports, the standalone rule has none.
resource "aws_vpc_security_group_ingress_rule" "everything" {
  security_group_id = aws_security_group.legacy.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_security_group_rule" "all_keyword" {
  type              = "ingress"
  security_group_id = aws_security_group.legacy.id
  from_port         = 0
  to_port           = 0
  protocol          = "all"
  cidr_blocks       = ["0.0.0.0/0"]
}
