# GitHub Actions: any job of acme/network (pull requests included) may
# plan with read credentials. The claim pins the repository by its id, which
# a repository created later under the same name does not get...
resource "deputy_runner_trust" "network_plan" {
  stack_id = deputy_stack.network.id
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "deputy"
  subject  = "repo:acme/network:*"
  claims   = { repository_id = "123456789" }
  phases   = ["read"]
}

# ...and only pushes to the protected main branch may apply, each token
# once: `deputy exec --id-token github-actions` mints a fresh one per
# request, so a token copied out of the job's logs is already spent.
resource "deputy_runner_trust" "network_apply" {
  stack_id          = deputy_stack.network.id
  issuer            = "https://token.actions.githubusercontent.com"
  audience          = "deputy"
  subject           = "repo:acme/network:ref:refs/heads/main"
  claims            = { repository_id = "123456789", event_name = "push", ref_protected = "true" }
  phases            = ["write"]
  single_use_tokens = true
}

# GitLab CI: applies from protected main of one project.
resource "deputy_runner_trust" "gitlab_apply" {
  stack_id = deputy_stack.network.id
  issuer   = "https://gitlab.com"
  audience = "deputy"
  subject  = "project_path:acme/network:ref_type:branch:ref:main"
  claims   = { project_id = "4242", ref_protected = "true" }
  phases   = ["write"]
}
