//! `deputy_aws_integration`: an AWS role deputy assumes for attached
//! stacks, and how. Import id: the integration id.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection};
use super::super::validate;
use super::super::values::{
    boolean, int, labels, labels_value, nullable, object, string, strings, strings_value, text,
};
use crate::model::integration::{
    TrustScope, check_session_policy_arns, check_trust_scope, custom_external_id,
};
use crate::model::{Name, Region, RoleArn, SessionDuration, Space};
use crate::wire::{Integration, IntegrationInput};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Number, Type, Value};

pub struct AwsIntegrationResource;

fn input(v: &Value) -> IntegrationInput {
    IntegrationInput {
        name: string(v, "name").unwrap_or_default(),
        role_arn: string(v, "role_arn").unwrap_or_default(),
        region: string(v, "region"),
        duration_seconds: int(v, "duration_seconds"),
        generate_credentials_in_worker: boolean(v, "generate_credentials_in_worker")
            .unwrap_or(false),
        external_id: string(v, "external_id"),
        tag_session: boolean(v, "tag_session").unwrap_or(false),
        set_source_identity: boolean(v, "set_source_identity").unwrap_or(false),
        trust_scope: string(v, "trust_scope"),
        read_session_policy_arns: strings(v, "read_session_policy_arns"),
        write_session_policy_arns: strings(v, "write_session_policy_arns"),
        labels: labels(v, "labels"),
        space: string(v, "space"),
        description: string(v, "description").unwrap_or_default(),
    }
}

/// State from the broker's answer. Every optional value with a default is
/// known (`{}`, `[]`, `""` when empty), so the state read after an import
/// matches a configuration that sets them empty or leaves them out.
pub(crate) fn state(i: Integration) -> Value {
    object([
        ("id", text(i.id)),
        ("name", text(i.name)),
        ("role_arn", text(i.role_arn)),
        ("region", text(i.region)),
        (
            "duration_seconds",
            Value::Number(Number::Int(i.duration_seconds)),
        ),
        (
            "generate_credentials_in_worker",
            Value::Bool(i.generate_credentials_in_worker),
        ),
        ("external_id", nullable(&i.external_id.map(String::from))),
        ("tag_session", Value::Bool(i.tag_session)),
        ("set_source_identity", Value::Bool(i.set_source_identity)),
        ("trust_scope", text(i.trust_scope.as_str())),
        (
            "read_session_policy_arns",
            strings_value(&i.read_session_policy_arns),
        ),
        (
            "write_session_policy_arns",
            strings_value(&i.write_session_policy_arns),
        ),
        ("labels", labels_value(&i.labels)),
        ("space", text(i.space)),
        ("description", text(i.description)),
    ])
}

pub(crate) fn attributes(computed_inputs: bool) -> Vec<Attribute> {
    let input = |a: Attribute| {
        if computed_inputs {
            Attribute::computed(a.name, a.ty, a.description)
        } else {
            a
        }
    };
    vec![
        Attribute::computed("id", Type::String, "The integration's id (a ULID), part of its External IDs.").stable(),
        input(Attribute::required("name", Type::String, "Unique name.")),
        input(Attribute::required(
            "role_arn",
            Type::String,
            "ARN of the IAM role to assume (partitions `aws`, `aws-cn`, `aws-us-gov`; paths allowed).",
        )),
        input(
            Attribute::optional_computed("region", Type::String, "AWS region for STS calls. Defaults to `us-east-1`.")
                .default(text(Region::DEFAULT)),
        ),
        input(
            Attribute::optional_computed(
                "duration_seconds",
                Type::Number,
                "Lifetime of vended credentials, 900 to 43200 seconds. Defaults to 3600.",
            )
            .default(Value::Number(Number::Int(SessionDuration::DEFAULT.seconds()))),
        ),
        input(
            Attribute::optional_computed(
                "generate_credentials_in_worker",
                Type::Bool,
                "Let workers assume the role with their own identity instead of the broker. Defaults to false.",
            )
            .default(Value::Bool(false)),
        ),
        input(Attribute::optional(
            "external_id",
            Type::String,
            "Custom External ID; only with `generate_credentials_in_worker`. In broker mode deputy \
             derives one per stack and phase.",
        )),
        input(
            Attribute::optional_computed(
                "tag_session",
                Type::Bool,
                "Pass session tags (stack, run, phase, account) when assuming the role; the trust \
                 policy must then also allow `sts:TagSession`. Defaults to false.",
            )
            .default(Value::Bool(false)),
        ),
        input(
            Attribute::optional_computed(
                "set_source_identity",
                Type::Bool,
                "Pass the run id as SourceIdentity when assuming the role: CloudTrail shows it, it \
                 survives role chaining, and policies can require it. The trust policy must then \
                 also allow `sts:SetSourceIdentity`. Defaults to false.",
            )
            .default(Value::Bool(false)),
        ),
        input(Attribute::optional_computed(
            "read_session_policy_arns",
            Type::list(Type::String),
            "Managed policy ARNs passed as session policies whenever a `read` (plan) session is \
             created, at most 10: the session may do only what the role and these policies both \
             allow, so a plan cannot write even with a role that can. \
             `arn:aws:iam::aws:policy/ReadOnlyAccess` is the usual choice. Defaults to none.",
        )
        .default(Value::List(Vec::new()))),
        input(
            Attribute::optional_computed(
                "write_session_policy_arns",
                Type::list(Type::String),
                "Managed policy ARNs passed as session policies whenever a `write` (apply) session \
                 is created, at most 10. Defaults to none.",
            )
            .default(Value::List(Vec::new())),
        ),
        input(
            Attribute::optional_computed(
                "trust_scope",
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
        ),
        input(
            Attribute::optional_computed("labels", Type::map(Type::String), "Free-form labels. Defaults to none (`{}`).")
                .default(Value::Map(Default::default())),
        ),
        input(
            Attribute::optional_computed("space", Type::String, "Space. Defaults to `root`.")
                .default(text(Space::default())),
        ),
        input(
            Attribute::optional_computed("description", Type::String, "Free-form description. Defaults to `\"\"`.")
                .default(text("")),
        ),
    ]
}

#[async_trait]
impl Resource<BrokerConnection> for AwsIntegrationResource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[("id", "The integration's id.")],
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
        validate::attr::<Name>(config, "name", "Invalid name", &mut diags);
        validate::attr::<RoleArn>(config, "role_arn", "Invalid role ARN", &mut diags);
        validate::attr::<Region>(config, "region", "Invalid region", &mut diags);
        validate::attr::<Space>(config, "space", "Invalid space", &mut diags);
        validate::labels(config, "labels", &mut diags);
        if let Some(d) = config.get("duration_seconds").as_number() {
            let checked = match d.as_i64() {
                Some(s) => SessionDuration::new(s).map(|_| ()),
                None => Err(crate::model::Invalid(format!(
                    "duration_seconds is {d}; use whole seconds"
                ))),
            };
            if let Err(e) = checked {
                diags.push(
                    Diagnostic::error("Invalid duration", e.0)
                        .at(AttributePath::attr("duration_seconds")),
                );
            }
        }
        validate::attr::<TrustScope>(config, "trust_scope", "Invalid trust scope", &mut diags);
        for name in ["read_session_policy_arns", "write_session_policy_arns"] {
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
            .get("trust_scope")
            .as_str()
            .map(str::parse::<TrustScope>)
            && config.get("external_id").as_str().is_some()
            && let Err(e) = check_trust_scope(scope, true)
        {
            diags.push(
                Diagnostic::error("Invalid trust scope", e.0)
                    .at(AttributePath::attr("trust_scope")),
            );
        }
        let worker = config.get("generate_credentials_in_worker");
        if let (Some(custom), false) = (config.get("external_id").as_str(), worker.is_unknown())
            && let Err(e) = custom_external_id(worker.as_bool() == Some(true), custom)
        {
            diags.push(
                Diagnostic::error("Invalid External ID", e.0)
                    .at(AttributePath::attr("external_id")),
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
        let id = string(current, "id").unwrap_or_default();
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
        let id = string(prior, "id").unwrap_or_default();
        let updated = broker
            .client()?
            .replace_integration(&id, &input(planned))
            .await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = string(prior, "id").unwrap_or_default();
        broker.client()?.delete_integration(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let i = broker.client()?.integration(id).await?;
        Ok(state(i))
    }
}
