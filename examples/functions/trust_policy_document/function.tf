variable "stack_ids" {
  type    = list(string)
  default = ["networking", "payments-api", "data-lake"]
}

# Stack scope (the default): one External ID per stack and phase.
resource "aws_iam_role" "few_stacks" {
  name = "deputy-few-stacks"
  assume_role_policy = provider::deputy::trust_policy_document(
    "arn:aws:iam::123456789012:role/deputy-broker",
    "acme",
    "01JQ3ZV8T4M5N6P7Q8R9S0T1V2",
    var.stack_ids,
    ["read", "write"],
  )
}

# Integration scope: the same size for any number of stacks. Pass the
# integration's settings (its trust_scope must be "integration").
resource "aws_iam_role" "many_stacks" {
  name = "deputy-many-stacks"
  assume_role_policy = provider::deputy::trust_policy_document(
    "arn:aws:iam::123456789012:role/deputy-broker",
    "acme",
    "01JQ3ZV8T4M5N6P7Q8R9S0T1V2",
    var.stack_ids,
    ["read", "write"],
    { trust_scope = "integration", tag_session = true },
  )
}
