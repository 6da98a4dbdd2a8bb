//! `deputy_runner_trust`: which OIDC ID tokens of CI jobs get credentials
//! for a stack's phases, so pipelines hold no runner key. Import id: the
//! trust's id (`deputy runner-trust list`).

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection, to_diags};
use super::super::model::resource_model;
use super::super::validate;
use super::super::values::text;
use crate::model::runner_trust::{check_audience, check_claims, check_issuer, check_subject};
use crate::model::{Invalid, Phase, StackId};
use std::collections::BTreeSet;

use crate::wire::{Labels, RunnerTrust, RunnerTrustInput};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct RunnerTrustResource;

resource_model! {
    /// `deputy_runner_trust`'s attributes. Claims and description are
    /// always known in state (`{}` and `""` when empty, their defaults).
    pub(crate) struct RunnerTrustModel {
        id: String => |n| Attribute::computed(n, Type::String, "The trust's id.").stable(),
        stack_id: String => |n| Attribute::required(
            n,
            Type::String,
            "The stack whose runs these tokens are.",
        ),
        issuer: String => |n| Attribute::required(
            n,
            Type::String,
            "The issuer exactly as tokens carry it in `iss`, e.g. \
             `https://token.actions.githubusercontent.com` or `https://gitlab.com`.",
        ),
        audience: String => |n| Attribute::required(
            n,
            Type::String,
            "The audience tokens must carry in `aud`; `deputy exec --id-token` requests `deputy` by default.",
        ),
        subject: String => |n| Attribute::required(
            n,
            Type::String,
            "Pattern for the token's `sub`, e.g. `repo:acme/network:ref:refs/heads/main`. \
             It needs 6 literal characters before its first `*`; for GitHub's issuer it \
             must pin the repository's owner (`repo:OWNER/...`, or \
             `repository_owner_id:ID:...` with a customised subject template).",
        ),
        claims: Labels => |n| Attribute::optional_computed(
            n,
            Type::map(Type::String),
            "Patterns for other claims, all of which must match, e.g. `{ event_name = \"push\", ref_protected = \"true\" }`. Prefer the immutable ids issuers add (`repository_id`, `repository_owner_id` on GitHub; `project_id`, `namespace_id` on GitLab) to names, which a renamed or recreated repository passes on. Defaults to none (`{}`).",
        )
        .default(Value::Map(Default::default())),
        phases: BTreeSet<String> => |n| Attribute::required(
            n,
            Type::set(Type::String),
            "The phases these tokens may get credentials for: `read` (plans), `write` (applies).",
        ),
        description: String => |n| Attribute::optional_computed(
            n,
            Type::String,
            "Free-form description. Defaults to `\"\"`.",
        )
        .default(text("")),
        single_use_tokens: bool => |n| Attribute::optional_computed(
            n,
            Type::Bool,
            "Accept each token once: its `jti` is kept until it expires and a second use, \
             on any broker replica, is refused, so a leaked token is worth nothing once \
             its job has used it. Tokens must carry a `jti`, and the job must mint a \
             fresh token per request (`deputy exec --id-token github-actions` does; a \
             token read from a variable or file is refused at renewal). Defaults to \
             `false`.",
        )
        .default(Value::Bool(false)),
        created_at: String => |n| Attribute::computed(
            n,
            Type::String,
            "When the trust was created (RFC 3339).",
        )
        .stable(),
    }
}

fn input(planned: &Value) -> RunnerTrustInput {
    let m = RunnerTrustModel::from_value(planned);
    RunnerTrustInput {
        stack_id: m.stack_id,
        issuer: m.issuer,
        audience: m.audience,
        subject: m.subject,
        claims: m.claims,
        phases: m.phases.iter().filter_map(|p| p.parse().ok()).collect(),
        description: m.description,
        single_use_tokens: m.single_use_tokens,
    }
}

/// State from the broker's answer.
fn state(t: RunnerTrust) -> Value {
    RunnerTrustModel {
        id: t.id,
        stack_id: t.stack_id.into(),
        issuer: t.issuer,
        audience: t.audience,
        subject: t.subject,
        claims: t.claims,
        phases: t.phases.iter().map(|p| p.as_str().to_string()).collect(),
        description: t.description,
        single_use_tokens: t.single_use_tokens,
        created_at: t.created_at,
    }
    .to_value()
}

/// A string attribute checked by a `model::runner_trust` rule.
fn check(
    config: &Value,
    name: &str,
    rule: fn(&str) -> Result<(), Invalid>,
    diags: &mut Diagnostics,
) {
    if let Some(text) = config.get(name).as_str()
        && let Err(e) = rule(text)
    {
        diags.push(Diagnostic::error(format!("Invalid {name}"), e.0).at(AttributePath::attr(name)));
    }
}

#[async_trait]
impl Resource<BrokerConnection> for RunnerTrustResource {
    fn type_name(&self) -> &'static str {
        "deputy_runner_trust"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[(RunnerTrustModel::id, "The trust's id.")],
        })
    }

    fn schema(&self) -> Schema {
        // Version 1: claims and description default to `{}` and `""`
        // instead of null; version 2: `single_use_tokens` (false in
        // upgraded state).
        Schema::new(
            2,
            "Lets OIDC ID tokens of CI jobs (GitHub Actions, GitLab CI, any OIDC issuer) get \
             credentials for one stack's phases, with no stored runner key. A token must come \
             from `issuer`, carry `audience`, and match `subject` and every entry of `claims` \
             (`*` stands for any run of characters). Give plan jobs (pull requests) `read` and \
             only protected-branch apply jobs `write`.",
            RunnerTrustModel::attributes(),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<StackId>(
            config,
            RunnerTrustModel::stack_id,
            "Invalid stack id",
            &mut diags,
        );
        check(config, RunnerTrustModel::issuer, check_issuer, &mut diags);
        check(
            config,
            RunnerTrustModel::audience,
            check_audience,
            &mut diags,
        );
        // The issuer decides the subject's rule; until it is known, the
        // broker checks at apply.
        if let (Some(issuer), Some(subject)) = (
            config.get(RunnerTrustModel::issuer).as_str(),
            config.get(RunnerTrustModel::subject).as_str(),
        ) && let Err(e) = check_subject(issuer, subject)
        {
            diags.push(
                Diagnostic::error("Invalid subject", e.0)
                    .at(AttributePath::attr(RunnerTrustModel::subject)),
            );
        }
        if config
            .get(RunnerTrustModel::claims)
            .as_entries()
            .is_some_and(|m| m.values().all(|v| v.as_str().is_some()))
            && let Err(e) = check_claims(&RunnerTrustModel::from_value(config).claims)
        {
            diags.push(
                Diagnostic::error("Invalid claims", e.0)
                    .at(AttributePath::attr(RunnerTrustModel::claims)),
            );
        }
        validate::list_attr::<Phase>(
            config,
            RunnerTrustModel::phases,
            "Invalid phase",
            &mut diags,
        );
        validate::require_non_empty(
            config,
            RunnerTrustModel::phases,
            "use [\"read\"] for plan jobs, [\"write\"] for apply jobs",
            &mut diags,
        );
        diags
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let created = broker
            .client()?
            .create_runner_trust(&input(planned))
            .await?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let id = RunnerTrustModel::from_value(current).id;
        Ok(broker
            .client()?
            .runner_trust(&id)
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
        let id = RunnerTrustModel::from_value(prior).id;
        let updated = broker
            .client()?
            .replace_runner_trust(&id, &input(planned))
            .await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = RunnerTrustModel::from_value(prior).id;
        broker.client()?.delete_runner_trust(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let t = broker
            .client()?
            .runner_trust(id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr(RunnerTrustModel::id))))?;
        Ok(state(t))
    }
}
