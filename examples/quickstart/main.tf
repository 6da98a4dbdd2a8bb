# deputy quickstart: the trust policy of one AWS role shared by several
# stacks, each stack and phase with its own External ID.
#
# Run it with `scripts/quickstart` from the repository root.

terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

variable "principal_arn" {
  description = "The AWS principal the deputy broker runs as."
  type        = string
  default     = "arn:aws:iam::123456789012:role/deputy-broker"
}

variable "integration_id" {
  description = "The AWS integration the stacks share."
  type        = string
  default     = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
}

locals {
  account = "acme"
  stacks  = ["networking", "payments-api", "data-lake"]
}

# One External ID per stack and phase: plans get `read`, applies `write`.
output "external_ids" {
  value = {
    for stack in local.stacks : stack => {
      for phase in ["read", "write"] :
      phase => provider::deputy::external_id(local.account, var.integration_id, stack, phase)
    }
  }
}

# The whole trust policy in one call, ready for aws_iam_role.assume_role_policy.
output "trust_policy" {
  value = jsondecode(provider::deputy::trust_policy_document(
    var.principal_arn, local.account, var.integration_id, local.stacks, ["read", "write"]
  ))
}
