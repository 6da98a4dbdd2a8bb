variable "stack_ids" {
  type    = list(string)
  default = ["networking", "payments-api", "data-lake"]
}

resource "aws_iam_role" "shared" {
  name = "deputy-shared"
  assume_role_policy = provider::deputy::trust_policy_document(
    "arn:aws:iam::123456789012:role/deputy-broker",
    "acme",
    "01JQ3ZV8T4M5N6P7Q8R9S0T1V2",
    var.stack_ids,
    ["read", "write"],
  )
}
