action "deputy_verify_integration" "prod" {
  config {
    integration_id = deputy_aws_integration.prod.id
  }
}

# Verify whenever an attachment is created or changed...
resource "deputy_aws_integration_attachment" "network" {
  integration_id = deputy_aws_integration.prod.id
  stack_id       = deputy_stack.network.id

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.deputy_verify_integration.prod]
    }
  }
}

# ...or on demand:
#   terraform apply -invoke=action.deputy_verify_integration.prod
