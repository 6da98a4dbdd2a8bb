import {
  to       = deputy_space.payments
  identity = { id = "payments" }
}
