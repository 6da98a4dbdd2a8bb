# terraform query -generate-config-out=spaces.tf
list "deputy_space" "teams" {
  provider = deputy
  config {
    parent_id = "platform"
  }
}
