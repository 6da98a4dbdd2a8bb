# A team's space under the platform team's: its stacks may use the
# platform's integrations, and a key of the team acts only here and below.
resource "deputy_space" "platform" {
  id          = "platform"
  name        = "Platform team"
  description = "Owns the roles every team uses"
}

resource "deputy_space" "payments" {
  id        = "payments"
  name      = "Payments team"
  parent_id = deputy_space.platform.id
  inherit   = true
  labels    = { cost-center = "cc-42" }
}
