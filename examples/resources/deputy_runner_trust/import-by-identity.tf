import {
  to       = deputy_runner_trust.network_apply
  identity = { id = "01jq3zv8t4m5n6p7q8r9s0t1v2" }
}
