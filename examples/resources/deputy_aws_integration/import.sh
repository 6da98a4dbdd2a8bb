# The id is the integration id (a ULID), shown by `deputy integration list`.
terraform import deputy_aws_integration.prod 01JQ3ZV8T4M5N6P7Q8R9S0T1V2
