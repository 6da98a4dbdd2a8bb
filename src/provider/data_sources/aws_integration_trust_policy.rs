//! `data "deputy_aws_integration_trust_policy"`: the aggregate path. One
//! instance builds the whole trust policy of an integration's role for a
//! list of stacks, instead of one data source instance per stack.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::validate;
use super::super::values::{object, string, text};
use super::{checked_length, external_ids};
use crate::model::trust_policy::{document_json, statement_json};
use crate::model::{Phase, StackId};
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AwsIntegrationTrustPolicyDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationTrustPolicyDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_trust_policy"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "The whole trust policy of an integration's role for many stacks, in one instance: \
             the aggregate alternative to a `for_each` of \
             `deputy_aws_integration_attachment_external_id`.\n\nIn the integration's \
             `trust_scope`: exact External IDs for `stack` (the policy grows by about 100 \
             characters per stack), one `StringLike` pattern per phase for `integration` (the \
             same size for any number of stacks). A policy longer than the provider's \
             `max_trust_policy_length` is an error at plan on `stack_ids`.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::required(
                    "stack_ids",
                    Type::list(Type::String),
                    "Ids of the stacks that use the role.",
                ),
                Attribute::optional(
                    "phases",
                    Type::list(Type::String),
                    "Phases to allow: `read`, `write`. Defaults to both.",
                ),
                Attribute::computed(
                    "external_ids",
                    Type::list(Type::String),
                    "Every External ID allowed, stack by stack.",
                ),
                Attribute::computed(
                    "assume_role_policy_statement",
                    Type::String,
                    "The one statement, as JSON, to add to a policy's `Statement` list.",
                ),
                Attribute::computed("json", Type::String, "The whole policy document, as JSON."),
                Attribute::computed(
                    "length",
                    Type::Number,
                    "The document's length as IAM counts it (whitespace not counted), at most the \
                     provider's `max_trust_policy_length`.",
                ),
                Attribute::computed(
                    "max_session_duration",
                    Type::Number,
                    "The least `MaxSessionDuration` the role may have, in seconds: the \
                     integration's `duration_seconds` (or IAM's minimum, 3600). Give it to the \
                     role (`aws_iam_role.max_session_duration`): a lower one makes every \
                     AssumeRole fail, which the broker can only find out at attach.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::require_non_empty(
            config,
            "stack_ids",
            "list the ids of the stacks that use the role.",
            &mut diags,
        );
        validate::require_non_empty(
            config,
            "phases",
            "use [\"read\"], [\"write\"] or leave it out for both.",
            &mut diags,
        );
        validate::list_attr::<StackId>(config, "stack_ids", "Invalid stack id", &mut diags);
        validate::list_attr::<Phase>(config, "phases", "Invalid phase", &mut diags);
        diags
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let diags = self.validate(config);
        if diags.has_errors() {
            return Err(diags);
        }
        let stacks: Vec<String> = config
            .get("stack_ids")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let phases: Vec<Phase> = match config.get("phases").as_seq() {
            None => Phase::ALL.to_vec(),
            Some(list) => list
                .iter()
                .filter_map(|v| v.as_str()?.parse().ok())
                .collect(),
        };
        let with_paths: Vec<(&str, AttributePath)> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), AttributePath::attr("stack_ids").then_index(i)))
            .collect();
        let built = external_ids(
            broker,
            &string(config, "integration_id").unwrap_or_default(),
            &with_paths,
            &phases,
            warnings,
        )
        .await?;
        let json = document_json(&built.principal, &built.accepted, built.actions);
        let length = checked_length(
            &json,
            broker.max_trust_policy_length(),
            stacks.len(),
            AttributePath::attr("stack_ids"),
        )?;
        Ok(object([
            ("integration_id", config.get("integration_id").clone()),
            ("stack_ids", config.get("stack_ids").clone()),
            ("phases", config.get("phases").clone()),
            (
                "external_ids",
                Value::List(
                    built
                        .ids
                        .iter()
                        .map(|(_, _, id)| text(id.as_str()))
                        .collect(),
                ),
            ),
            (
                "assume_role_policy_statement",
                text(statement_json(
                    &built.principal,
                    &built.accepted,
                    built.actions,
                )),
            ),
            ("json", text(json)),
            ("length", Value::Number(Number::Int(length))),
            (
                "max_session_duration",
                Value::Number(Number::Int(built.max_session_duration)),
            ),
        ]))
    }
}
