//! `data "deputy_aws_integration_attachment_external_id"`: the External IDs
//! of one stack and integration, and the ready `sts:AssumeRole` statement
//! for a role's trust policy. Works before the attachment exists (the role
//! must trust deputy first, then the attachment can be verified).
//!
//! Built from the account and integration, each fetched once per provider
//! process, so a `for_each` over many stacks costs a few broker requests in
//! all, not one per instance.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::values::{object, string, text};
use super::{checked_length, external_ids};
use crate::model::Phase;
use crate::model::trust_policy::statement_json;
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AttachmentExternalIdDataSource;

fn requested(config: &Value) -> Vec<Phase> {
    let read = config.get("read").as_bool().unwrap_or(true);
    let write = config.get("write").as_bool().unwrap_or(true);
    Phase::from_flags(read, write)
}

#[async_trait]
impl DataSource<BrokerConnection> for AttachmentExternalIdDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_attachment_external_id"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "External IDs of a stack for an integration, and the `sts:AssumeRole` statement that \
             covers every requested phase. `jsondecode()` the statement into the `Statement` list \
             of a role's `assume_role_policy`.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::required("stack_id", Type::String, "The stack's id."),
                Attribute::optional(
                    "read",
                    Type::Bool,
                    "Include the plan phase. Defaults to true.",
                ),
                Attribute::optional(
                    "write",
                    Type::Bool,
                    "Include the apply phase. Defaults to true.",
                ),
                Attribute::computed(
                    "external_id",
                    Type::String,
                    "The External ID of the requested phase; with both phases, the `write` one \
                     (use `external_ids` or the statement to cover both).",
                ),
                Attribute::computed(
                    "external_ids",
                    Type::map(Type::String),
                    "External ID of each requested phase, keyed `read` / `write`.",
                ),
                Attribute::computed(
                    "assume_role_policy_statement",
                    Type::String,
                    "One Allow statement for deputy's principal, as JSON: with every requested \
                     External ID when the integration's `trust_scope` is `stack`, or with the \
                     integration's pattern for each requested phase when it is `integration` (the \
                     same statement for every stack: keep one). Includes `sts:TagSession` and \
                     `sts:SetSourceIdentity` when the integration needs them.",
                ),
                Attribute::computed(
                    "length",
                    Type::Number,
                    "The statement's length as IAM counts it (whitespace not counted). A policy of \
                     several statements is about the sum of their lengths plus 40; checked against \
                     the provider's `max_trust_policy_length`.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        if config.get("read").as_bool() == Some(false)
            && config.get("write").as_bool() == Some(false)
        {
            return Diagnostic::error(
                "No phase requested",
                "read and write are both false: request at least one phase, or leave them out for both.",
            )
            .at(AttributePath::attr("write"))
            .into();
        }
        Diagnostics::new()
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let stack = string(config, "stack_id").unwrap_or_default();
        let phases = requested(config);
        let built = external_ids(
            broker,
            &string(config, "integration_id").unwrap_or_default(),
            &[(stack.as_str(), AttributePath::attr("stack_id"))],
            &phases,
            warnings,
        )
        .await?;
        let statement = statement_json(&built.principal, &built.accepted, built.actions);
        let length = checked_length(
            &statement,
            broker.max_trust_policy_length(),
            1,
            AttributePath::attr("stack_id"),
        )?;
        let main = built
            .ids
            .last()
            .map(|(_, _, id)| text(id.as_str()))
            .unwrap_or(Value::Null);
        Ok(object([
            ("integration_id", config.get("integration_id").clone()),
            ("stack_id", config.get("stack_id").clone()),
            ("read", config.get("read").clone()),
            ("write", config.get("write").clone()),
            ("external_id", main),
            (
                "external_ids",
                Value::Map(
                    built
                        .ids
                        .iter()
                        .map(|(_, p, id)| (p.to_string(), text(id.as_str())))
                        .collect(),
                ),
            ),
            ("assume_role_policy_statement", text(statement)),
            ("length", Value::Number(Number::Int(length))),
        ]))
    }
}
