resource "deputy_aws_integration" "prod" {
  name             = "prod-deployer"
  role_arn         = "arn:aws:iam::123456789012:role/deputy-deployer"
  region           = "eu-west-1"
  duration_seconds = 3600
  labels           = { env = "prod" }
}
