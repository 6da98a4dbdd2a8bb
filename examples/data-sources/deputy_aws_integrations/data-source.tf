data "deputy_aws_integrations" "prod" {
  labels = { env = "prod" }
}
