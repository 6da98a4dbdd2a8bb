data "deputy_stack" "network" {
  id = "prod-network"
}
