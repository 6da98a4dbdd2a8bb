//! `deputy_aws_integration`: an AWS role deputy assumes for attached
//! stacks, and how. Import id: the integration id.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection};
use super::super::model::resource_model;
use super::super::validate;
use super::super::values::{strings, text};
use crate::model::integration::{
    TrustScope, check_session_policy_arns, check_trust_scope, custom_external_id,
};
use crate::model::{Name, Region, RoleArn, SessionDuration, SpaceId};
use crate::wire::{Integration, IntegrationInput, Labels};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AwsIntegrationResource;

fn input(planned: &Value) -> IntegrationInput {
    let m = IntegrationModel::from_value(planned);
    IntegrationInput {
        name: m.name,
        role_arn: m.role_arn,
        region: m.region,
        duration_seconds: m.duration_seconds,
        generate_credentials_in_worker: m.generate_credentials_in_worker,
        external_id: m.external_id,
        tag_session: m.tag_session,
        set_source_identity: m.set_source_identity,
        trust_scope: m.trust_scope,
        read_session_policy_arns: m.read_session_policy_arns,
        write_session_policy_arns: m.write_session_policy_arns,
        labels: m.labels,
        space: m.space,
        description: m.description,
    }
}

/// State from the broker's answer.
pub(crate) fn state(i: Integration) -> Value {
    IntegrationModel {
        id: i.id.into(),
        name: i.name,
        role_arn: i.role_arn.into(),
        region: Some(i.region.into()),
        duration_seconds: Some(i.duration_seconds),
        generate_credentials_in_worker: i.generate_credentials_in_worker,
        external_id: i.external_id.map(String::from),
        tag_session: i.tag_session,
        set_source_identity: i.set_source_identity,
        read_session_policy_arns: i.read_session_policy_arns,
        write_session_policy_arns: i.write_session_policy_arns,
        trust_scope: Some(i.trust_scope.as_str().to_string()),
        labels: i.labels,
        space: Some(i.space),
        description: i.description,
    }
    .to_value()
}

resource_model! {
    /// `deputy_aws_integration`'s attributes. Every optional value with a
    /// default is known in state (`{}`, `[]`, `""` when empty), so the
    /// state read after an import matches a configuration that sets them
    /// empty or leaves them out.
    pub(crate) struct IntegrationModel {
        id: String => |n| Attribute::computed(n, Type::String, "The integration's id (a ULID), part of its External IDs.").stable(),
        name: String => |n| Attribute::required(n, Type::String, "Unique name."),
        role_arn: String => |n| Attribute::required(
            n,
            Type::String,
            "ARN of the IAM role to assume (partitions `aws`, `aws-cn`, `aws-us-gov`; paths allowed).",
        ),
        region: Option<String> => |n| Attribute::optional_computed(n, Type::String, "AWS region for STS calls. Defaults to `us-east-1`.")
                .default(text(Region::DEFAULT)),
        duration_seconds: Option<i64> => |n| Attribute::optional_computed(
                n,
                Type::Number,
                "Lifetime of vended credentials, 900 to 43200 seconds. Defaults to 3600.",
            )
            .default(Value::Number(Number::Int(SessionDuration::DEFAULT.seconds()))),
        generate_credentials_in_worker: bool => |n| Attribute::optional_computed(
                n,
                Type::Bool,
                "Let workers assume the role with their own identity instead of the broker. Defaults to false.",
            )
            .default(Value::Bool(false)),
        external_id: Option<String> => |n| Attribute::optional(
            n,
            Type::String,
            "Custom External ID; only with `generate_credentials_in_worker`. In broker mode deputy \
             derives one per stack and phase.",
        ),
        tag_session: bool => |n| Attribute::optional_computed(
                n,
                Type::Bool,
                "Pass session tags (stack, run, phase, account) when assuming the role; the trust \
                 policy must then also allow `sts:TagSession`. Defaults to false.",
            )
            .default(Value::Bool(false)),
        set_source_identity: bool => |n| Attribute::optional_computed(
                n,
                Type::Bool,
                "Pass the run id as SourceIdentity when assuming the role: CloudTrail shows it, it \
                 survives role chaining, and policies can require it. The trust policy must then \
                 also allow `sts:SetSourceIdentity`. Defaults to false.",
            )
            .default(Value::Bool(false)),
        read_session_policy_arns: Vec<String> => |n| Attribute::optional_computed(
            n,
            Type::list(Type::String),
            "Managed policy ARNs passed as session policies whenever a `read` (plan) session is \
             created, at most 10: the session may do only what the role and these policies both \
             allow, so a plan cannot write even with a role that can. \
             `arn:aws:iam::aws:policy/ReadOnlyAccess` is the usual choice. Defaults to none.",
        )
        .default(Value::List(Vec::new())),
        write_session_policy_arns: Vec<String> => |n| Attribute::optional_computed(
                n,
                Type::list(Type::String),
                "Managed policy ARNs passed as session policies whenever a `write` (apply) session \
                 is created, at most 10. Defaults to none.",
            )
            .default(Value::List(Vec::new())),
        trust_scope: Option<String> => |n| Attribute::optional_computed(
                n,
                Type::String,
                "What the role's trust policy accepts. `stack` (the default): the exact External ID \
                 of each attached stack and phase, so the role itself names every stack, and the \
                 policy grows by about 100 characters per stack (IAM's default quota of 2048 fits \
                 about 16-20 stacks). `integration`: one `StringLike` pattern per phase, \
                 `<account>@<integration_id>@*@read` and `...@*@write`, the same size for any \
                 number of stacks; other integrations, even ones naming the same role, are still \
                 refused, and which stacks may use the role is decided by deputy's attachments \
                 alone. Verification checks that the role does what is declared. Not with a \
                 custom `external_id`.",
            )
            .default(text(TrustScope::default().as_str())),
        labels: Labels => |n| Attribute::optional_computed(n, Type::map(Type::String), "Free-form labels. Defaults to none (`{}`).")
                .default(Value::Map(Default::default())),
        space: Option<String> => |n| Attribute::optional_computed(n, Type::String, "The id of the space it belongs to. Defaults to `root`.")
                .default(text(SpaceId::root())),
        description: String => |n| Attribute::optional_computed(n, Type::String, "Free-form description. Defaults to `\"\"`.")
                .default(text("")),
    }
}

/// The schema's attributes; with `computed_inputs`, every input is
/// computed instead (the data source's view of an integration).
pub(crate) fn attributes(computed_inputs: bool) -> Vec<Attribute> {
    IntegrationModel::attributes()
        .into_iter()
        .map(|a| {
            if computed_inputs && a.name != IntegrationModel::id {
                Attribute::computed(a.name, a.ty, a.description)
            } else {
                a
            }
        })
        .collect()
}

#[async_trait]
impl Resource<BrokerConnection> for AwsIntegrationResource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[(IntegrationModel::id, "The integration's id.")],
        })
    }

    fn schema(&self) -> Schema {
        // Version 1: `last_verified_at` moved to the data source (every
        // attach re-verifies, so in the resource it changed outside
        // Terraform on each one), and optional values default to `{}`,
        // `[]`, `""` instead of null; state of version 0 is upgraded.
        Schema::new(
            1,
            "An AWS role deputy assumes on behalf of the stacks attached to it.\n\nChanging a \
             field that changes what deputy sends to STS or what the role must trust (role, \
             region, duration, session tags, SourceIdentity, mode, custom External ID, trust scope) is verified for every attached stack before it takes \
             effect; if the verification fails, the previous configuration stays in force and the \
             apply fails with the report.",
            attributes(false),
        )
    }

    /// The broker's rules (`model`), applied to every known value, so plan
    /// refuses what apply would.
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<Name>(config, IntegrationModel::name, "Invalid name", &mut diags);
        validate::attr::<RoleArn>(
            config,
            IntegrationModel::role_arn,
            "Invalid role ARN",
            &mut diags,
        );
        validate::attr::<Region>(
            config,
            IntegrationModel::region,
            "Invalid region",
            &mut diags,
        );
        validate::attr::<SpaceId>(config, IntegrationModel::space, "Invalid space", &mut diags);
        validate::labels(config, IntegrationModel::labels, &mut diags);
        if let Some(d) = config.get(IntegrationModel::duration_seconds).as_number() {
            let checked = match d.as_i64() {
                Some(s) => SessionDuration::new(s).map(|_| ()),
                None => Err(crate::model::Invalid(format!(
                    "duration_seconds is {d}; use whole seconds"
                ))),
            };
            if let Err(e) = checked {
                diags.push(
                    Diagnostic::error("Invalid duration", e.0)
                        .at(AttributePath::attr(IntegrationModel::duration_seconds)),
                );
            }
        }
        validate::attr::<TrustScope>(
            config,
            IntegrationModel::trust_scope,
            "Invalid trust scope",
            &mut diags,
        );
        for name in [
            IntegrationModel::read_session_policy_arns,
            IntegrationModel::write_session_policy_arns,
        ] {
            let complete = config
                .get(name)
                .as_seq()
                .is_some_and(|items| items.iter().all(|i| i.as_str().is_some()));
            if complete && let Err(e) = check_session_policy_arns(&strings(config, name)) {
                diags.push(
                    Diagnostic::error("Invalid session policies", e.0)
                        .at(AttributePath::attr(name)),
                );
            }
        }
        if let Some(Ok(scope)) = config
            .get(IntegrationModel::trust_scope)
            .as_str()
            .map(str::parse::<TrustScope>)
            && config.get(IntegrationModel::external_id).as_str().is_some()
            && let Err(e) = check_trust_scope(scope, true)
        {
            diags.push(
                Diagnostic::error("Invalid trust scope", e.0)
                    .at(AttributePath::attr(IntegrationModel::trust_scope)),
            );
        }
        let worker = config.get(IntegrationModel::generate_credentials_in_worker);
        if let (Some(custom), false) = (
            config.get(IntegrationModel::external_id).as_str(),
            worker.is_unknown(),
        ) && let Err(e) = custom_external_id(worker.as_bool() == Some(true), custom)
        {
            diags.push(
                Diagnostic::error("Invalid External ID", e.0)
                    .at(AttributePath::attr(IntegrationModel::external_id)),
            );
        }
        diags
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let created = broker.client()?.create_integration(&input(planned)).await?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let id = IntegrationModel::from_value(current).id;
        Ok(broker
            .client()?
            .integration(&id)
            .await
            .or_gone()?
            .map(state))
    }

    async fn update(
        &self,
        broker: &BrokerConnection,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let id = IntegrationModel::from_value(prior).id;
        let updated = broker
            .client()?
            .replace_integration(&id, &input(planned))
            .await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = IntegrationModel::from_value(prior).id;
        broker.client()?.delete_integration(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let i = broker.client()?.integration(id).await?;
        Ok(state(i))
    }
}
