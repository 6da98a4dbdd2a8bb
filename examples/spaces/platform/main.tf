terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}

# DEPUTY_ENDPOINT and DEPUTY_TOKEN_FILE (an admin key of the root space).
provider "deputy" {}

resource "deputy_space" "platform" {
  id          = "platform"
  name        = "Platform team"
  description = "Owns the roles the teams use"
}

resource "deputy_space" "team" {
  for_each  = toset(["payments", "checkout"])
  id        = each.key
  parent_id = deputy_space.platform.id
  inherit   = true
}

resource "deputy_aws_integration" "shared" {
  name     = "shared-deployer"
  role_arn = "arn:aws:iam::210987654321:role/deputy-deployer"
  space    = deputy_space.platform.id
}
