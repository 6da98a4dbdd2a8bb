data "deputy_trust_policy_document" "shared" {
  principal_arn  = "arn:aws:iam::123456789012:role/deputy-broker"
  account        = "acme"
  integration_id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  stack_ids      = ["networking", "payments-api"]
}

resource "aws_iam_role" "shared" {
  name               = "deputy-shared"
  assume_role_policy = data.deputy_trust_policy_document.shared.json
}
