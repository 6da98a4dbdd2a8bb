# terraform query -generate-config-out=stacks.tf
list "deputy_stack" "core" {
  provider = deputy
  config {
    space  = "root"
    labels = { team = "core" }
  }
}
