//! API keys as the API shows them (never the secret, except once at
//! creation) and the body that creates one.

use serde::{Deserialize, Serialize};

use crate::model::space::Level;
use crate::model::{Phase, SpaceId, StackId};

/// What a key does. `admin`, `write` and `read` keys manage the registry
/// in their space and below (see `model::space`) and get no credentials;
/// a `runner` key gets credentials and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// Everything in its space and below: integrations, child spaces, keys
    /// up to its own role, and what `write` does.
    Admin,
    /// Stacks in its space and below: create, change, delete, attach the
    /// integrations in their reach, runner keys and runner trusts.
    Write,
    /// Sees everything in its space and below; changes nothing.
    Read,
    /// Gets credentials for one stack and its phases; nothing else.
    Runner,
}

impl KeyRole {
    /// The level of a key that manages the registry; `None` for a runner
    /// key.
    pub fn level(self) -> Option<Level> {
        match self {
            KeyRole::Admin => Some(Level::Admin),
            KeyRole::Write => Some(Level::Write),
            KeyRole::Read => Some(Level::Read),
            KeyRole::Runner => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Runner => "runner",
            other => other.level().map_or("runner", Level::as_str),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// Public: names the key in listings and audit events.
    pub id: String,
    pub role: KeyRole,
    /// The space an `admin`, `write` or `read` key acts in (and below);
    /// absent on runner keys, which act for their stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<SpaceId>,
    pub stack_id: Option<StackId>,
    pub phases: Vec<Phase>,
    pub description: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Body of `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub role: KeyRole,
    /// `admin`, `write` and `read` keys only: the space the key acts in
    /// (and below). Defaults to the creating key's own space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub space_id: Option<String>,
    /// Runner keys only: the one stack they act for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub stack_id: Option<String>,
    /// Runner keys only, and required for them: the phases the key may get
    /// credentials for. A plan job gets `["read"]`, an apply job
    /// `["write"]`; there is no default, so no key holds `write` by accident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1)]
    pub phases: Option<Vec<Phase>>,
    #[serde(default)]
    pub description: String,
    /// Lifetime in seconds; no expiry when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub expires_in_seconds: Option<i64>,
}

impl ApiKeyInput {
    /// A runner key for the given phases of one stack, without expiry; set
    /// the other fields with struct update syntax.
    pub fn runner(stack_id: &str, phases: &[Phase]) -> ApiKeyInput {
        ApiKeyInput {
            role: KeyRole::Runner,
            space_id: None,
            stack_id: Some(stack_id.into()),
            phases: Some(phases.to_vec()),
            description: String::new(),
            expires_in_seconds: None,
        }
    }
}

/// The answer to key creation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: String,
}
