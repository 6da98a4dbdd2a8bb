# The runner key comes from DEPUTY_RUNNER_TOKEN; the credentials never
# reach the plan or the state.
ephemeral "deputy_aws_credentials" "deploy" {
  stack_id = "prod-network"
  phase    = "write"
  run_id   = var.run_id
}

provider "aws" {
  region     = ephemeral.deputy_aws_credentials.deploy.region
  access_key = ephemeral.deputy_aws_credentials.deploy.access_key_id
  secret_key = ephemeral.deputy_aws_credentials.deploy.secret_access_key
  token      = ephemeral.deputy_aws_credentials.deploy.session_token
}
