data "deputy_aws_integration_role_template" "deployer" {
  integration_id      = deputy_aws_integration.prod.id
  format              = "cloudformation"
  managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]
  state_bucket        = "acme-terraform-state"
  template_url        = "https://acme-templates.s3.amazonaws.com/deputy-deployer.json"
}

# Host the template, then share the link with the account's owner.
resource "aws_s3_object" "template" {
  bucket  = "acme-templates"
  key     = "deputy-deployer.json"
  content = data.deputy_aws_integration_role_template.deployer.content
}

output "launch_stack" {
  value = data.deputy_aws_integration_role_template.deployer.quick_create_url
}
