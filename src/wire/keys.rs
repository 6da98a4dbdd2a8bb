//! API keys as the API shows them (never the secret, except once at
//! creation) and the body that creates one.

use serde::{Deserialize, Serialize};

use crate::model::{Phase, StackId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// Manages the registry; gets no credentials.
    Admin,
    /// Gets credentials for one stack and its phases; nothing else.
    Runner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// Public: names the key in listings and audit events.
    pub id: String,
    pub role: KeyRole,
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
