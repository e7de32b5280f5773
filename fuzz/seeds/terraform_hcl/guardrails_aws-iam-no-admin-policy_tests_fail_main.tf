data "aws_iam_policy_document" "admin" {
  statement {
    effect    = "Allow"
    actions   = ["*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "admin" {
  name   = "break-glass"
  policy = data.aws_iam_policy_document.admin.json
}

resource "aws_iam_policy" "inline_json" {
  name = "god-mode"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "*"
        Resource = "*"
      }
    ]
  })
}

resource "aws_iam_group_policy" "ops" {
  name  = "ops-admin"
  group = "ops"

  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": {
    "Action": ["*"],
    "Resource": ["*"]
  }
}
EOF
}
