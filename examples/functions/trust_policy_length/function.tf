locals {
  # A policy assembled from several per-stack statements.
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [for s in data.deputy_aws_integration_attachment_external_id.each : jsondecode(s.assume_role_policy_statement)]
  })
}

resource "aws_iam_role" "shared" {
  name               = "deputy-shared"
  assume_role_policy = local.assume_role_policy

  lifecycle {
    precondition {
      condition     = provider::deputy::trust_policy_length(local.assume_role_policy) <= 2048
      error_message = "The trust policy is over IAM's default quota: use trust_scope = \"integration\"."
    }
  }
}
