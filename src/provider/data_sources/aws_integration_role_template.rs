//! `data "deputy_aws_integration_role_template"`: the integration's role
//! as a deployable CloudFormation template, Terraform configuration or
//! JSON, rendered by the broker (which knows the attachments and scope).

use async_trait::async_trait;

use super::super::connection::{BrokerConnection, to_diags};
use super::super::values::{nullable, object, string, text};
use crate::model::role_template::{
    Format, check_bucket_name, check_managed_policy_arn, check_table_name,
};
use crate::model::{Invalid, StackId};
use crate::provider::validate;
use crate::wire::RoleTemplateQuery;
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AwsIntegrationRoleTemplateDataSource;

fn strings(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Checks a known text attribute with a rule that is a plain function.
fn check(
    config: &Value,
    name: &str,
    rule: fn(&str) -> Result<(), Invalid>,
    diags: &mut Diagnostics,
) {
    if let Some(v) = config.get(name).as_str()
        && let Err(e) = rule(v)
    {
        diags.push(Diagnostic::error(format!("Invalid {name}"), e.0).at(AttributePath::attr(name)));
    }
}

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationRoleTemplateDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_role_template"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "The role of an AWS integration, ready to deploy: a CloudFormation template, a \
             Terraform configuration for the `hashicorp/aws` provider, or JSON. It holds the trust \
             policy for the integration's attachments (and `stack_ids`) in its `trust_scope`, with \
             `sts:TagSession` / `sts:SetSourceIdentity` when the integration needs them, a \
             `MaxSessionDuration` covering the integration's `duration_seconds`, and optionally \
             managed policies and a Terraform state bucket and lock table with the policy the role \
             needs for them.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::optional(
                    "format",
                    Type::String,
                    "`cloudformation` (the default), `terraform` or `json`.",
                ),
                Attribute::optional(
                    "stack_ids",
                    Type::list(Type::String),
                    "Stacks to trust besides the attached ones: a stack-scoped role must trust a \
                     stack before its attachment can be verified.",
                ),
                Attribute::optional(
                    "managed_policy_arns",
                    Type::list(Type::String),
                    "Managed policies to attach to the role.",
                ),
                Attribute::optional(
                    "state_bucket",
                    Type::String,
                    "Also create this S3 bucket for Terraform state (versioned, encrypted, not \
                     public), and let the role use it.",
                ),
                Attribute::optional(
                    "lock_table",
                    Type::String,
                    "Also create this DynamoDB table for state locking (needs `state_bucket`).",
                ),
                Attribute::optional(
                    "template_url",
                    Type::String,
                    "Where you host the CloudFormation template (https): sets `quick_create_url`.",
                ),
                Attribute::computed("content", Type::String, "The template."),
                Attribute::computed("file_name", Type::String, "A file name for `content`."),
                Attribute::computed(
                    "trust_policy_length",
                    Type::Number,
                    "The trust policy's length as IAM counts it (whitespace not counted).",
                ),
                Attribute::computed(
                    "quick_create_url",
                    Type::String,
                    "The CloudFormation console's quick-create link for `template_url`.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<Format>(config, "format", "Invalid format", &mut diags);
        validate::list_attr::<StackId>(config, "stack_ids", "Invalid stack id", &mut diags);
        for (i, arn) in config
            .get("managed_policy_arns")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(Err(e)) = arn.as_str().map(check_managed_policy_arn) {
                diags.push(
                    Diagnostic::error("Invalid managed policy ARN", e.0)
                        .at(AttributePath::attr("managed_policy_arns").then_index(i)),
                );
            }
        }
        check(config, "state_bucket", check_bucket_name, &mut diags);
        check(config, "lock_table", check_table_name, &mut diags);
        if config.get("lock_table").as_str().is_some() && config.get("state_bucket").is_null() {
            diags.push(
                Diagnostic::error(
                    "lock_table needs state_bucket",
                    "A lock table goes with a state bucket: set state_bucket too.",
                )
                .at(AttributePath::attr("lock_table")),
            );
        }
        diags
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let query = RoleTemplateQuery {
            format: string(config, "format"),
            managed_policy_arn: strings(config, "managed_policy_arns"),
            stack_id: strings(config, "stack_ids"),
            state_bucket: string(config, "state_bucket"),
            lock_table: string(config, "lock_table"),
            template_url: string(config, "template_url"),
        };
        let integration = string(config, "integration_id").unwrap_or_default();
        let t = broker
            .client()?
            .role_template(&integration, &query)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr("integration_id"))))?;
        let mut state = config.as_entries().cloned().unwrap_or_default();
        let computed = object([
            ("content", text(t.content)),
            ("file_name", text(t.file_name)),
            (
                "trust_policy_length",
                Value::Number(Number::Int(t.trust_policy_length as i64)),
            ),
            ("quick_create_url", nullable(&t.quick_create_url)),
        ]);
        state.extend(computed.as_entries().cloned().unwrap_or_default());
        Ok(Value::Object(state))
    }
}
