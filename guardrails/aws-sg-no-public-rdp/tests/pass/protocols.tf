# Rules open to the internet whose protocol cannot carry RDP (TCP or UDP 3389).
resource "aws_security_group" "ping" {
  name = "ping"

  ingress {
    description = "every ICMP type"
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "GRE (protocol 47) has no ports"
    from_port   = 0
    to_port     = 0
    protocol    = "47"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
