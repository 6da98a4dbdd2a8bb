terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

# DEPUTY_ENDPOINT and DEPUTY_TOKEN_FILE (a write key of the payments space).
provider "deputy" {}

data "deputy_aws_integration" "shared" {
  name = "shared-deployer"
}

resource "deputy_stack" "api" {
  id    = "payments-api"
  space = "payments"
}

resource "deputy_aws_integration_attachment" "api" {
  integration_id = data.deputy_aws_integration.shared.id
  stack_id       = deputy_stack.api.id
}

output "external_ids" {
  value = deputy_aws_integration_attachment.api.external_ids
}
