# terraform query -generate-config-out=integrations.tf
list "deputy_aws_integration" "prod" {
  provider = deputy
  config {
    labels = { env = "prod" }
  }
}
