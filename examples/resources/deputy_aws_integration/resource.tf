resource "deputy_aws_integration" "prod" {
  name             = "prod-deployer"
  role_arn         = "arn:aws:iam::123456789012:role/deputy-deployer"
  region           = "eu-west-1"
  duration_seconds = 3600
  labels           = { env = "prod" }
}

# A role shared by many stacks: its trust policy holds one pattern per phase
# instead of one External ID per stack, and every run's id is recorded in
# CloudTrail as its SourceIdentity.
resource "deputy_aws_integration" "shared" {
  name                = "shared-deployer"
  role_arn            = "arn:aws:iam::123456789012:role/deputy-shared"
  trust_scope         = "integration"
  set_source_identity = true
}
