data "deputy_space" "payments" {
  id = "payments"
}
