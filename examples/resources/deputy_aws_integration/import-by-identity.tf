import {
  to       = deputy_aws_integration.prod
  identity = { id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2" }
}
