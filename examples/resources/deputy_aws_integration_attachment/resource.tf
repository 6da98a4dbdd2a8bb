resource "deputy_aws_integration_attachment" "network" {
  integration_id = deputy_aws_integration.prod.id
  stack_id       = deputy_stack.network.id
  read           = true # plans
  write          = true # applies
}
