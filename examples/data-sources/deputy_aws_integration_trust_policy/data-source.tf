data "deputy_aws_integration_trust_policy" "shared" {
  integration_id = deputy_aws_integration.prod.id
  stack_ids      = [for s in deputy_stack.all : s.id]
}

resource "aws_iam_role" "deployer" {
  name               = "deputy-deployer"
  assume_role_policy = data.deputy_aws_integration_trust_policy.shared.json
}
