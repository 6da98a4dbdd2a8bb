data "deputy_aws_integration" "prod" {
  name = "prod-deployer"
}
