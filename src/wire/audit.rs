//! The audit trail as the API shows it, and its filters.

use serde::{Deserialize, Serialize};

use crate::model::Phase;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub at: String,
    /// The API key that acted, if any.
    pub key_id: Option<String>,
    /// `stack.create`, `attachment.update`, `credentials.issue`, ...
    pub action: String,
    /// `stack/<id>`, `integration/<id>`, `attachment/<integration>/<stack>`, ...
    pub target: String,
    /// `ok`, or the problem code the request was refused with.
    pub outcome: String,
    pub stack_id: Option<String>,
    pub phase: Option<Phase>,
    pub run_id: Option<String>,
    pub integration_id: Option<String>,
    pub session_name: Option<String>,
    /// The SourceIdentity a vend passed (integrations with
    /// `set_source_identity`).
    #[serde(default)]
    pub source_identity: Option<String>,
    pub expires_at: Option<String>,
    pub detail: String,
    /// For a caller that presented an OIDC ID token: its issuer, subject
    /// and id (`jti`), and the runner trust that let it in. Never the
    /// token.
    #[serde(default)]
    pub token_issuer: Option<String>,
    #[serde(default)]
    pub token_subject: Option<String>,
    #[serde(default)]
    pub token_id: Option<String>,
    #[serde(default)]
    pub runner_trust_id: Option<String>,
    /// The address the request came from (failed authentications).
    #[serde(default)]
    pub source: Option<String>,
    /// How many like events this one stands for: failed authentications
    /// are counted per source and reason within a window, not written one
    /// by one. `at` is the first one's time, `last_at` the last one's.
    #[serde(default = "one")]
    pub count: u64,
    /// The last counted event's time, when `count` is more than 1.
    #[serde(default)]
    pub last_at: Option<String>,
    /// The space the event is about: its object's (for a deletion, as it
    /// was), else the acting key's; absent for failed authentications. A
    /// key reads the events of its own subtree. Set by the broker when it
    /// writes the event, whatever a writer puts here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
}

fn one() -> u64 {
    1
}

impl AuditEvent {
    /// The outcome as lists show it: `unauthenticated ×240` for a row
    /// that stands for 240 events.
    pub fn counted_outcome(&self) -> String {
        match self.count {
            1 => self.outcome.clone(),
            n => format!("{} ×{n}", self.outcome),
        }
    }

    /// The detail, with where the events came from and, for a row that
    /// stands for several, when the last one was.
    pub fn full_detail(&self) -> String {
        let mut out = self.detail.clone();
        if let Some(source) = &self.source {
            out.push_str(&format!(" (from {source}"));
            match &self.last_at {
                Some(last) if self.count > 1 => {
                    out.push_str(&format!("; {} events, the last at {last})", self.count))
                }
                _ => out.push(')'),
            }
        }
        out
    }
}

impl AuditEvent {
    /// A successful event of `action` on `target` by `key_id`, now, with a
    /// new id; set the other fields with struct update syntax.
    pub fn new(key_id: Option<&str>, action: &str, target: &str) -> AuditEvent {
        AuditEvent {
            id: ulid::Ulid::new().to_string(),
            at: crate::model::timestamp::now(),
            key_id: key_id.map(str::to_string),
            action: action.into(),
            target: target.into(),
            outcome: crate::model::audit::OK.into(),
            stack_id: None,
            phase: None,
            run_id: None,
            integration_id: None,
            session_name: None,
            source_identity: None,
            expires_at: None,
            detail: String::new(),
            token_issuer: None,
            token_subject: None,
            token_id: None,
            runner_trust_id: None,
            source: None,
            count: 1,
            last_at: None,
            space_id: None,
        }
    }
}

/// Query of `GET /v1/audit`: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub target: Option<String>,
    pub key_id: Option<String>,
    pub stack_id: Option<String>,
    /// Events about this integration: its own changes and verifications,
    /// and its attachments.
    pub integration_id: Option<String>,
    pub outcome: Option<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// Newest first, at most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; opaque.
    pub cursor: Option<String>,
}
