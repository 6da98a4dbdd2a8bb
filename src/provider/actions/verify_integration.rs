//! `action "deputy_verify_integration"`: verifies an integration's role
//! from Terraform (`terraform apply -invoke=action.deputy_verify_integration.NAME`,
//! or an `action_trigger` after an attachment is created or updated) and
//! shows every probe as progress. A role that is not safe fails the apply
//! with the broker's explanation. For OpenTofu and Terraform before 1.14,
//! the data source `deputy_aws_integration_verification` gives the same
//! report.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::values::string;
use super::super::verification::{self, step_line};
use tfplugin::action::{Action, Progress};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct VerifyIntegrationAction;

#[async_trait]
impl Action<BrokerConnection> for VerifyIntegrationAction {
    fn type_name(&self) -> &'static str {
        "deputy_verify_integration"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Verifies an integration's role: assumable with each attached stack's External IDs, \
             and, for every phase in use, refused with each part of the External ID (account, \
             integration, stack, phase) replaced by a value nobody holds, without one, with one \
             of no deputy shape and, when the broker has a canary, to another principal of \
             deputy's account. Every probe is shown as it is reported; a role that is not safe \
             fails the apply, and the broker stops vending where it failed.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::optional(
                    "stack_id",
                    Type::String,
                    "Verify for this stack (attached or not) instead of every attachment.",
                ),
            ],
        )
    }

    async fn invoke(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics> {
        let integration = string(config, "integration_id").unwrap_or_default();
        let stack = string(config, "stack_id");
        progress.report(format!(
            "verifying integration {integration}{}",
            stack
                .as_deref()
                .map(|s| format!(" for stack {s}"))
                .unwrap_or_default()
        ));
        let outcome = verification::run(broker, &integration, stack.as_deref()).await?;
        for step in &outcome.report.steps {
            progress.report(step_line(step));
        }
        let report = &outcome.report;
        match outcome.failure {
            None => {
                progress.report(format!(
                    "{} is safe to use ({} STS calls, {} ms)",
                    report.role_arn, report.sts_calls, report.millis
                ));
                let mut diagnostics = Diagnostics::new();
                for warning in &report.warnings {
                    diagnostics.push(Diagnostic::warning(
                        "AWS role verification: warning",
                        format!("{}: {warning}", report.role_arn),
                    ));
                }
                Ok(diagnostics)
            }
            Some(why) => Err(Diagnostic::error(
                "AWS role verification failed",
                format!("{why} Role: {}.", report.role_arn),
            )
            .into()),
        }
    }
}
