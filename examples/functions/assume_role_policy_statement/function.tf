locals {
  ids = [
    for phase in ["read", "write"] :
    provider::deputy::external_id("acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "networking", phase)
  ]
}

resource "aws_iam_role" "networking" {
  name = "deputy-networking"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      jsondecode(provider::deputy::assume_role_policy_statement(
        "arn:aws:iam::123456789012:role/deputy-broker", local.ids
      )),
    ]
  })
}
