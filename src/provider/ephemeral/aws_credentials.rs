//! `ephemeral "deputy_aws_credentials"`: short-lived AWS credentials for a
//! stack's run, for a `provider "aws"` block (Terraform ≥ 1.10). Ephemeral
//! values never reach the plan or the state.
//!
//! It acts with the provider's own key (in a workload stack, the stack's
//! runner key, given the way `deputy exec` takes it), unless the block
//! names another: `runner_token`, or a run's OIDC `id_token`.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::validate;
use super::super::values::{object, string, text};
use crate::model::{Phase, StackId};
use crate::wire::{CredentialsRequest, IssuedCredentials};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::ephemeral::{EphemeralResource, Opened};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsCredentialsEphemeralResource;

#[async_trait]
impl EphemeralResource<BrokerConnection> for AwsCredentialsEphemeralResource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_credentials"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Short-lived AWS credentials for a stack's run, vended by the deputy broker, for a \
             `provider \"aws\"` block. Ephemeral: never stored in plan or state (Terraform 1.10+).",
            vec![
                Attribute::required("stack_id", Type::String, "The stack the run belongs to."),
                Attribute::required("phase", Type::String, "`read` for plans, `write` for applies: `terraform.applying ? \"write\" : \"read\"` gives each its own."),
                Attribute::required("run_id", Type::String, "The run's id; it becomes the AWS session name."),
                Attribute::optional(
                    "runner_token",
                    Type::String,
                    "Runner API key for the stack, when it is not the provider's key. Defaults to the \
                     provider's key (`token`, `token_file`, `DEPUTY_TOKEN_FILE` or `DEPUTY_TOKEN`).",
                )
                .sensitive(),
                Attribute::optional(
                    "id_token",
                    Type::String,
                    "The run's OIDC ID token, presented instead of a key; a runner trust decides \
                     which stack and phases it acts for. Pass it through an ephemeral variable.",
                )
                .sensitive(),
                Attribute::computed("access_key_id", Type::String, "AWS access key id."),
                Attribute::computed("secret_access_key", Type::String, "AWS secret access key.").sensitive(),
                Attribute::computed("session_token", Type::String, "AWS session token.").sensitive(),
                Attribute::computed("expiration", Type::String, "When the credentials expire (RFC 3339)."),
                Attribute::computed("region", Type::String, "The integration's AWS region."),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<StackId>(config, "stack_id", "Invalid stack id", &mut diags);
        validate::attr::<Phase>(config, "phase", "Invalid phase", &mut diags);
        diags
    }

    async fn open(&self, broker: &BrokerConnection, config: &Value) -> Result<Opened, Diagnostics> {
        if !config.get("runner_token").is_null() && !config.get("id_token").is_null() {
            return Err(Diagnostic::error(
                "Two credentials for one request",
                "Set runner_token or id_token, not both: each names who is asking.",
            )
            .at(AttributePath::attr("id_token"))
            .into());
        }
        let client = match string(config, "runner_token").or_else(|| string(config, "id_token")) {
            Some(token) => broker.runner_client(token)?,
            None => broker.client()?.clone(),
        };
        let mut diags = Diagnostics::new();
        let phase: Option<Phase> = validate::attr(config, "phase", "Invalid phase", &mut diags);
        let Some(phase) = phase else {
            return Err(diags);
        };
        let issued = client
            .credentials(&CredentialsRequest {
                stack_id: string(config, "stack_id"),
                phase,
                run_id: string(config, "run_id").unwrap_or_default(),
            })
            .await?;
        let IssuedCredentials::Broker(issued) = issued else {
            return Err(Diagnostic::error(
                "Worker-mode integration",
                "This stack's integration generates credentials in workers; use `deputy exec` on the worker instead.",
            )
            .into());
        };
        let result = object([
            ("stack_id", config.get("stack_id").clone()),
            ("phase", config.get("phase").clone()),
            ("run_id", config.get("run_id").clone()),
            ("runner_token", config.get("runner_token").clone()),
            ("id_token", config.get("id_token").clone()),
            ("access_key_id", text(issued.access_key_id)),
            ("secret_access_key", text(issued.secret_access_key)),
            ("session_token", text(issued.session_token)),
            ("expiration", text(issued.expiration)),
            ("region", text(issued.session.region)),
        ]);
        Ok(Opened {
            result,
            renew_at: None,
            private: Vec::new(),
        })
    }
}
