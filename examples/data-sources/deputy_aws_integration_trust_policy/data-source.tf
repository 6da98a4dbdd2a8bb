resource "deputy_aws_integration" "prod" {
  name        = "prod-deployer"
  role_arn    = "arn:aws:iam::123456789012:role/deputy-deployer"
  trust_scope = "integration" # one pattern per phase: fits any number of stacks
}

data "deputy_aws_integration_trust_policy" "shared" {
  integration_id = deputy_aws_integration.prod.id
  stack_ids      = [for s in deputy_stack.all : s.id]
}

resource "aws_iam_role" "deployer" {
  name               = "deputy-deployer"
  assume_role_policy = data.deputy_aws_integration_trust_policy.shared.json
}

output "trust_policy_length" {
  value = data.deputy_aws_integration_trust_policy.shared.length
}
