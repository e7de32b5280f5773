# The service accepts HTTPS from the internal load balancer only; the database accepts
# PostgreSQL from the service only.

resource "aws_security_group" "service" {
  name        = "${local.name}-service"
  description = "payments-api tasks: HTTPS from the internal load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTPS from the internal load balancer"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.load_balancer_cidr]
  }

  egress {
    description = "HTTPS to AWS APIs and the card processor"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.tags
}

resource "aws_security_group" "ledger" {
  name        = "${local.name}-ledger"
  description = "Ledger database: PostgreSQL from payments-api only"
  vpc_id      = var.vpc_id

  tags = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "ledger_from_service" {
  security_group_id            = aws_security_group.ledger.id
  description                  = "PostgreSQL from payments-api"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.service.id

  tags = local.tags
}
