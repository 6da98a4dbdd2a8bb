# OpenTofu and Terraform before 1.14: verify after the attachments exist,
# and fail the check (a warning) when the role is not safe.
data "deputy_aws_integration_verification" "prod" {
  integration_id = deputy_aws_integration.prod.id
  depends_on     = [deputy_aws_integration_attachment.network]
}

check "prod_role_is_safe" {
  assert {
    condition     = data.deputy_aws_integration_verification.prod.ok
    error_message = data.deputy_aws_integration_verification.prod.error
  }
}
