data "deputy_aws_integration_attachment_external_id" "network" {
  integration_id = deputy_aws_integration.prod.id
  stack_id       = "prod-network"
}

resource "aws_iam_role" "deployer" {
  name = "deputy-deployer"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [jsondecode(data.deputy_aws_integration_attachment_external_id.network.assume_role_policy_statement)]
  })
}
