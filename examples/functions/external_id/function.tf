output "plan_external_id" {
  # "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@networking@read"
  value = provider::deputy::external_id("acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "networking", "read")
}
