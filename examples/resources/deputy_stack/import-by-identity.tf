import {
  to       = deputy_stack.network
  identity = { id = "prod-network" }
}
