data "deputy_account" "this" {}

output "trusted_principal" {
  value = data.deputy_account.this.aws_principal_arn
}
