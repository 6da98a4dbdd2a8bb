//! `deputy_trust_policy_document`: the trust policy of a role shared by many
//! stacks, computed offline from its inputs in one instance.
//!
//! The same result as `provider::deputy::trust_policy_document()`, for
//! Terraform before 1.8 and OpenTofu before 1.7, which have no provider
//! functions (1.5.x is still common). No broker call is made.

use async_trait::async_trait;

use super::checked_length;
use crate::model::integration::TrustScope;
use crate::model::trust_policy::{Accepted, Actions, document_json};
use crate::model::{AccountName, ExternalId, IntegrationId, Phase, PrincipalArn, StackId};
use crate::provider::BrokerConnection;
use crate::provider::validate;
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct TrustPolicyDocumentDataSource;

/// The validated inputs, or the diagnostics explaining what is wrong.
struct Inputs {
    principal: PrincipalArn,
    account: AccountName,
    integration: IntegrationId,
    stacks: Vec<StackId>,
    phases: Vec<Phase>,
    scope: TrustScope,
    actions: Actions,
}

fn inputs(config: &Value, diags: &mut Diagnostics) -> Option<Inputs> {
    validate::require_non_empty(
        config,
        "stack_ids",
        "list the ids of the stacks that use the role.",
        diags,
    );
    validate::require_non_empty(
        config,
        "phases",
        "use [\"read\"], [\"write\"] or leave it out for both.",
        diags,
    );
    let principal = validate::attr(config, "principal_arn", "Invalid principal ARN", diags);
    let account = validate::attr(config, "account", "Invalid account name", diags);
    let integration = validate::attr(config, "integration_id", "Invalid integration id", diags);
    let stacks = validate::list_attr(config, "stack_ids", "Invalid stack id", diags);
    let phases = match config.get("phases") {
        Value::Null => Some(Phase::ALL.to_vec()),
        _ => validate::list_attr(config, "phases", "Invalid phase", diags),
    };
    let scope = match config.get("trust_scope") {
        Value::Null => Some(TrustScope::default()),
        _ => validate::attr(config, "trust_scope", "Invalid trust scope", diags),
    };
    Some(Inputs {
        principal: principal?,
        account: account?,
        integration: integration?,
        stacks: stacks?,
        phases: phases?,
        scope: scope?,
        actions: Actions {
            tag_session: config.get("tag_session").as_bool().unwrap_or(false),
            set_source_identity: config.get("set_source_identity").as_bool().unwrap_or(false),
        },
    })
}

#[async_trait]
impl DataSource<BrokerConnection> for TrustPolicyDocumentDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_trust_policy_document"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Builds the trust policy of a role shared by many stacks, offline and in one \
             instance. Equivalent to `provider::deputy::trust_policy_document()` for Terraform \
             before 1.8 and OpenTofu before 1.7.",
            vec![
                Attribute::required(
                    "principal_arn",
                    Type::String,
                    "The AWS principal deputy runs as (`deputy_account.aws_principal_arn`).",
                ),
                Attribute::required("account", Type::String, "The broker account name."),
                Attribute::required("integration_id", Type::String, "The AWS integration's id."),
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
                Attribute::optional(
                    "trust_scope",
                    Type::String,
                    "The integration's `trust_scope`: `stack` (the default; exact External IDs, \
                     about 100 characters per stack) or `integration` (one `StringLike` pattern per \
                     phase, the same size for any number of stacks).",
                ),
                Attribute::optional(
                    "tag_session",
                    Type::Bool,
                    "Also allow `sts:TagSession`, needed when the integration tags sessions.",
                ),
                Attribute::optional(
                    "set_source_identity",
                    Type::Bool,
                    "Also allow `sts:SetSourceIdentity`, needed when the integration sets one.",
                ),
                Attribute::computed(
                    "external_ids",
                    Type::list(Type::String),
                    "Every External ID the policy accepts, stack by stack.",
                ),
                Attribute::computed("json", Type::String, "The policy document as JSON."),
                Attribute::computed(
                    "length",
                    Type::Number,
                    "The document's length as IAM counts it (whitespace not counted), at most the \
                     provider's `max_trust_policy_length`: a longer one is an error at plan.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        inputs(config, &mut diags);
        diags
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let mut diags = Diagnostics::new();
        let Some(i) = inputs(config, &mut diags) else {
            return Err(diags);
        };
        let ids: Vec<ExternalId> = i
            .stacks
            .iter()
            .flat_map(|s| {
                i.phases
                    .iter()
                    .map(|p| ExternalId::derive(&i.account, &i.integration, s, *p))
            })
            .collect();
        let stacks: Vec<(StackId, Vec<Phase>)> = i
            .stacks
            .iter()
            .map(|s| (s.clone(), i.phases.clone()))
            .collect();
        let accepted = Accepted::for_stacks(i.scope, &i.account, &i.integration, None, &stacks);
        let json = document_json(&i.principal, &accepted, i.actions);
        let length = checked_length(
            &json,
            broker.max_trust_policy_length(),
            stacks.len(),
            AttributePath::attr("stack_ids"),
        )?;
        let mut state = config.as_entries().cloned().unwrap_or_default();
        state.insert(
            "external_ids".into(),
            Value::List(ids.iter().map(|id| Value::string(id.as_str())).collect()),
        );
        state.insert("json".into(), Value::String(json));
        state.insert("length".into(), Value::Number(Number::Int(length)));
        Ok(Value::Object(state))
    }
}
