# terraform query -generate-config-out=attachments.tf
list "deputy_aws_integration_attachment" "network" {
  provider = deputy
  config {
    stack_id = "prod-network"
  }
}
