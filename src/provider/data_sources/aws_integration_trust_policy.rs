//! `data "deputy_aws_integration_trust_policy"`: the aggregate path. One
//! instance builds the whole trust policy of an integration's role for a
//! list of stacks, instead of one data source instance per stack.

use async_trait::async_trait;

use super::super::broker::Broker;
use super::super::validate;
use super::super::values::{object, string, text};
use super::external_ids;
use crate::model::trust_policy::{document_json, statement_json};
use crate::model::{Phase, StackId};
use crate::tfplugin::data_source::DataSource;
use crate::tfplugin::diag::{AttributePath, Diagnostics};
use crate::tfplugin::schema::{Attribute, Schema};
use crate::tfplugin::value::{Type, Value};

pub struct AwsIntegrationTrustPolicyDataSource;

#[async_trait]
impl DataSource<Broker> for AwsIntegrationTrustPolicyDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_trust_policy"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "The whole trust policy of an integration's role for many stacks, in one instance: \
             the aggregate alternative to a `for_each` of \
             `deputy_aws_integration_attachment_external_id`.",
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

    async fn read(&self, broker: &Broker, config: &Value) -> Result<Value, Diagnostics> {
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
        )
        .await?;
        let ids: Vec<_> = built.ids.iter().map(|(_, _, id)| id.clone()).collect();
        Ok(object([
            ("integration_id", config.get("integration_id").clone()),
            ("stack_ids", config.get("stack_ids").clone()),
            ("phases", config.get("phases").clone()),
            (
                "external_ids",
                Value::List(ids.iter().map(|id| text(id.as_str())).collect()),
            ),
            (
                "assume_role_policy_statement",
                text(statement_json(&built.principal, &ids, built.actions)),
            ),
            (
                "json",
                text(document_json(&built.principal, &ids, built.actions)),
            ),
        ]))
    }
}
