resource "deputy_stack" "network" {
  id          = "prod-network"
  name        = "Production network"
  labels      = { team = "platform" }
  description = "VPCs, transit gateway and DNS"
}
