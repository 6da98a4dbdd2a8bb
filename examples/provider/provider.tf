terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

# Endpoint and token usually come from DEPUTY_ENDPOINT and DEPUTY_TOKEN.
provider "deputy" {
  endpoint = "https://deputy.example.com"
}
