# deputy's own AWS identity: the broker's role (or an existing broker
# principal) and the canary role verification probes with
# (`deputy serve --canary-role-arn`). The same resources as
# deputy-broker.cfn.json, for the hashicorp/aws provider.

variable "broker_principal_arn" {
  description = "An existing IAM role or user the broker runs as; empty to create the broker role."
  type        = string
  default     = ""
}

variable "broker_service" {
  description = "When the broker role is created: the AWS service that runs the broker and may assume it."
  type        = string
  default     = "ecs-tasks.amazonaws.com"
}

variable "name_prefix" {
  description = "Prefix of the role names: PREFIX-broker and PREFIX-canary."
  type        = string
  default     = "deputy"
}

locals {
  create_broker = var.broker_principal_arn == ""
  broker_arn    = local.create_broker ? aws_iam_role.broker[0].arn : var.broker_principal_arn
  # The broker and the canary assume roles, tag sessions and set source
  # identities; the canary needs the same, or its vend-shaped probes would
  # be refused by its own policy and prove nothing.
  assume_roles = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_role" "broker" {
  count       = local.create_broker ? 1 : 0
  name        = "${var.name_prefix}-broker"
  description = "deputy's broker: the principal customer trust policies name."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = var.broker_service }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "broker" {
  count  = local.create_broker ? 1 : 0
  name   = "deputy-broker"
  role   = aws_iam_role.broker[0].id
  policy = local.assume_roles
}

resource "aws_iam_role" "canary" {
  name        = "${var.name_prefix}-canary"
  description = "deputy's canary: must be refused by every customer role; trusted by the broker only."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = local.broker_arn }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "canary" {
  name   = "deputy-canary"
  role   = aws_iam_role.canary.id
  policy = local.assume_roles
}

output "broker_principal_arn" {
  description = "The principal customer trust policies name."
  value       = local.broker_arn
}

output "canary_role_arn" {
  description = "Pass to deputy serve --canary-role-arn (or DEPUTY_CANARY_ROLE_ARN)."
  value       = aws_iam_role.canary.arn
}
