terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

# The endpoint usually comes from DEPUTY_ENDPOINT and the key from a file
# named by DEPUTY_TOKEN_FILE (or DEPUTY_TOKEN), as for the deputy CLI.
provider "deputy" {
  endpoint = "https://deputy.example.com"
}
