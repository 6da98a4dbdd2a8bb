//! `deputy_runner_trust`: which OIDC ID tokens of CI jobs get credentials
//! for a stack's phases, so pipelines hold no runner key. Import id: the
//! trust's id (`deputy runner-trust list`).

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection, to_diags};
use super::super::validate;
use super::super::values::{labels, labels_value, object, string, text};
use crate::model::runner_trust::{check_audience, check_claims, check_issuer, check_subject};
use crate::model::{Invalid, Phase, StackId};
use crate::wire::{RunnerTrust, RunnerTrustInput};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct RunnerTrustResource;

fn input(v: &Value) -> RunnerTrustInput {
    RunnerTrustInput {
        stack_id: string(v, "stack_id").unwrap_or_default(),
        issuer: string(v, "issuer").unwrap_or_default(),
        audience: string(v, "audience").unwrap_or_default(),
        subject: string(v, "subject").unwrap_or_default(),
        claims: labels(v, "claims"),
        phases: v
            .get("phases")
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str()?.parse().ok())
            .collect(),
        description: string(v, "description").unwrap_or_default(),
        single_use_tokens: v.get("single_use_tokens").as_bool().unwrap_or(false),
    }
}

/// State from the broker's answer; claims and description are always known
/// (`{}` and `""` when empty, their defaults).
fn state(t: RunnerTrust) -> Value {
    object([
        ("id", text(t.id)),
        ("stack_id", text(t.stack_id)),
        ("issuer", text(t.issuer)),
        ("audience", text(t.audience)),
        ("subject", text(t.subject)),
        ("claims", labels_value(&t.claims)),
        (
            "phases",
            Value::Set(t.phases.iter().map(|p| text(p.as_str())).collect()),
        ),
        ("description", text(t.description)),
        ("single_use_tokens", Value::Bool(t.single_use_tokens)),
        ("created_at", text(t.created_at)),
    ])
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
            attributes: &[("id", "The trust's id.")],
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
            vec![
                Attribute::computed("id", Type::String, "The trust's id.").stable(),
                Attribute::required(
                    "stack_id",
                    Type::String,
                    "The stack whose runs these tokens are.",
                ),
                Attribute::required(
                    "issuer",
                    Type::String,
                    "The issuer exactly as tokens carry it in `iss`, e.g. \
                     `https://token.actions.githubusercontent.com` or `https://gitlab.com`.",
                ),
                Attribute::required(
                    "audience",
                    Type::String,
                    "The audience tokens must carry in `aud`; `deputy exec --id-token` requests `deputy` by default.",
                ),
                Attribute::required(
                    "subject",
                    Type::String,
                    "Pattern for the token's `sub`, e.g. `repo:acme/network:ref:refs/heads/main`. \
                     It needs 6 literal characters before its first `*`; for GitHub's issuer it \
                     must pin the repository's owner (`repo:OWNER/...`, or \
                     `repository_owner_id:ID:...` with a customised subject template).",
                ),
                Attribute::optional_computed(
                    "claims",
                    Type::map(Type::String),
                    "Patterns for other claims, all of which must match, e.g. `{ event_name = \"push\", ref_protected = \"true\" }`. Prefer the immutable ids issuers add (`repository_id`, `repository_owner_id` on GitHub; `project_id`, `namespace_id` on GitLab) to names, which a renamed or recreated repository passes on. Defaults to none (`{}`).",
                )
                .default(Value::Map(Default::default())),
                Attribute::required(
                    "phases",
                    Type::set(Type::String),
                    "The phases these tokens may get credentials for: `read` (plans), `write` (applies).",
                ),
                Attribute::optional_computed(
                    "description",
                    Type::String,
                    "Free-form description. Defaults to `\"\"`.",
                )
                .default(text("")),
                Attribute::optional_computed(
                    "single_use_tokens",
                    Type::Bool,
                    "Accept each token once: its `jti` is kept until it expires and a second use, \
                     on any broker replica, is refused, so a leaked token is worth nothing once \
                     its job has used it. Tokens must carry a `jti`, and the job must mint a \
                     fresh token per request (`deputy exec --id-token github-actions` does; a \
                     token read from a variable or file is refused at renewal). Defaults to \
                     `false`.",
                )
                .default(Value::Bool(false)),
                Attribute::computed(
                    "created_at",
                    Type::String,
                    "When the trust was created (RFC 3339).",
                )
                .stable(),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<StackId>(config, "stack_id", "Invalid stack id", &mut diags);
        check(config, "issuer", check_issuer, &mut diags);
        check(config, "audience", check_audience, &mut diags);
        // The issuer decides the subject's rule; until it is known, the
        // broker checks at apply.
        if let (Some(issuer), Some(subject)) = (
            config.get("issuer").as_str(),
            config.get("subject").as_str(),
        ) && let Err(e) = check_subject(issuer, subject)
        {
            diags
                .push(Diagnostic::error("Invalid subject", e.0).at(AttributePath::attr("subject")));
        }
        if config
            .get("claims")
            .as_entries()
            .is_some_and(|m| m.values().all(|v| v.as_str().is_some()))
            && let Err(e) = check_claims(&labels(config, "claims"))
        {
            diags.push(Diagnostic::error("Invalid claims", e.0).at(AttributePath::attr("claims")));
        }
        validate::list_attr::<Phase>(config, "phases", "Invalid phase", &mut diags);
        validate::require_non_empty(
            config,
            "phases",
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
        let id = string(current, "id").unwrap_or_default();
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
        let id = string(prior, "id").unwrap_or_default();
        let updated = broker
            .client()?
            .replace_runner_trust(&id, &input(planned))
            .await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = string(prior, "id").unwrap_or_default();
        broker.client()?.delete_runner_trust(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let t = broker
            .client()?
            .runner_trust(id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr("id"))))?;
        Ok(state(t))
    }
}
