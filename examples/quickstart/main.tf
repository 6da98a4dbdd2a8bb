# deputy quickstart: stacks, an AWS integration, and the trust policy its
# role needs; then (with attach = true) the attachments, which the broker
# only accepts after verifying the role.
#
# Run it with `scripts/quickstart` from the repository root.

terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

variable "role_arn" {
  description = "The customer role deputy assumes for the stacks."
  type        = string
  default     = "arn:aws:iam::123456789012:role/deputy-quickstart"
}

variable "attach" {
  description = "Attach the stacks (after the role trusts deputy)."
  type        = bool
  default     = false
}

locals {
  stacks = ["networking", "payments-api", "data-lake"]
}

resource "deputy_stack" "this" {
  for_each = toset(local.stacks)
  id       = each.key
  labels   = { team = "platform" }
}

resource "deputy_aws_integration" "shared" {
  name     = "quickstart"
  role_arn = var.role_arn
}

# One instance for all stacks: the role's whole trust policy.
data "deputy_aws_integration_trust_policy" "shared" {
  integration_id = deputy_aws_integration.shared.id
  stack_ids      = [for s in deputy_stack.this : s.id]
}

resource "deputy_aws_integration_attachment" "this" {
  for_each       = var.attach ? deputy_stack.this : {}
  integration_id = deputy_aws_integration.shared.id
  stack_id       = each.value.id
}

output "trust_policy" {
  value = data.deputy_aws_integration_trust_policy.shared.json
}

output "external_ids" {
  value = { for k, a in deputy_aws_integration_attachment.this : k => a.external_ids }
}
