import {
  to = deputy_aws_integration_attachment.network
  identity = {
    integration_id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
    stack_id       = "prod-network"
  }
}
