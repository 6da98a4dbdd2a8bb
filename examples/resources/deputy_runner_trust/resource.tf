# GitHub Actions: any job of acme/network (pull requests included) may
# plan with read credentials...
resource "deputy_runner_trust" "network_plan" {
  stack_id = deputy_stack.network.id
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "deputy"
  subject  = "repo:acme/network:*"
  claims   = { repository = "acme/network" }
  phases   = ["read"]
}

# ...and only pushes to the protected main branch may apply.
resource "deputy_runner_trust" "network_apply" {
  stack_id = deputy_stack.network.id
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "deputy"
  subject  = "repo:acme/network:ref:refs/heads/main"
  claims   = { event_name = "push", ref_protected = "true" }
  phases   = ["write"]
}

# GitLab CI: applies from protected main of one project.
resource "deputy_runner_trust" "gitlab_apply" {
  stack_id = deputy_stack.network.id
  issuer   = "https://gitlab.com"
  audience = "deputy"
  subject  = "project_path:acme/network:ref_type:branch:ref:main"
  claims   = { ref_protected = "true" }
  phases   = ["write"]
}
