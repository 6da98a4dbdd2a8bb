//! `data "deputy_aws_integration_verification"`: verifies an integration's
//! role at every read and reports each probe, for OpenTofu and Terraform
//! before 1.14 (which have no actions; see `deputy_verify_integration`).
//! A role that is not safe is a warning and `ok = false`, so a `check`
//! block or a postcondition decides what it means for the run.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::values::{object, string, text};
use super::super::verification;
use tfplugin::data_source::DataSource;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AwsIntegrationVerificationDataSource;

fn step_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("outcome", Type::String),
        ("detail", Type::String),
        ("attempts", Type::Number),
        ("millis", Type::Number),
    ])
}

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationVerificationDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_verification"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Verifies an integration's role at every read (as `deputy verify` does) and reports \
             each probe. The outcome is recorded by the broker: a failure stops vending where it \
             failed. A role that is not safe gives `ok = false` and a warning; use a `check` \
             block or a postcondition to fail on it. On Terraform 1.14 and later, the action \
             `deputy_verify_integration` does the same on demand.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::optional(
                    "stack_id",
                    Type::String,
                    "Verify for this stack (attached or not) instead of every attachment.",
                ),
                Attribute::computed("ok", Type::Bool, "Whether the role is safe to use."),
                Attribute::computed("role_arn", Type::String, "The role verified."),
                Attribute::computed(
                    "error",
                    Type::String,
                    "Why the role is not safe, with the fix; empty when `ok`.",
                ),
                Attribute::computed(
                    "sts_calls",
                    Type::Number,
                    "AssumeRole and GetCallerIdentity calls made, retries included.",
                ),
                Attribute::computed(
                    "steps",
                    Type::list(step_type()),
                    "Each probe: `name`, `outcome` (`ok`, `denied` or `failed`), `detail`, \
                     `attempts` and `millis`.",
                ),
            ],
        )
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let integration = string(config, "integration_id").unwrap_or_default();
        let stack = string(config, "stack_id");
        let outcome = verification::run(broker, &integration, stack.as_deref()).await?;
        let report = outcome.report;
        if let Some(why) = &outcome.failure {
            warnings.push(Diagnostic::warning(
                "AWS role verification failed",
                format!("{why} Role: {}.", report.role_arn),
            ));
        }
        for warning in &report.warnings {
            warnings.push(Diagnostic::warning(
                "AWS role verification: warning",
                format!("{}: {warning}", report.role_arn),
            ));
        }
        let int = |n: u64| Value::Number(Number::Int(n as i64));
        Ok(object([
            ("integration_id", config.get("integration_id").clone()),
            ("stack_id", config.get("stack_id").clone()),
            ("ok", Value::Bool(outcome.failure.is_none())),
            ("role_arn", text(report.role_arn)),
            ("error", text(outcome.failure.unwrap_or_default())),
            ("sts_calls", int(u64::from(report.sts_calls))),
            (
                "steps",
                Value::List(
                    report
                        .steps
                        .into_iter()
                        .map(|s| {
                            object([
                                ("name", text(s.name)),
                                ("outcome", text(s.outcome.to_string())),
                                ("detail", text(s.detail)),
                                ("attempts", int(u64::from(s.attempts))),
                                ("millis", int(s.millis)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]))
    }
}
