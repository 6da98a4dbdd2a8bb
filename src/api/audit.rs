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
    pub outcome: Option<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// Newest first, at most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}
