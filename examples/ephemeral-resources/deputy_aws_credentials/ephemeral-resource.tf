# A workload stack: the provider acts with the stack's runner key, given
# as to `deputy exec` (DEPUTY_ENDPOINT, and DEPUTY_TOKEN_FILE naming a file
# that holds the key), no admin key. Plans get read credentials, applies
# write credentials. The credentials never reach the plan or the state.
ephemeral "deputy_aws_credentials" "run" {
  stack_id = "prod-network"
  phase    = terraform.applying ? "write" : "read"
  run_id   = var.run_id
}

provider "aws" {
  region     = ephemeral.deputy_aws_credentials.run.region
  access_key = ephemeral.deputy_aws_credentials.run.access_key_id
  secret_key = ephemeral.deputy_aws_credentials.run.secret_access_key
  token      = ephemeral.deputy_aws_credentials.run.session_token
}
