//! Runner trusts as the API shows them, and the body that creates or
//! replaces one: which OIDC ID tokens may get credentials for which stack
//! and phases (rules in `model::runner_trust`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Phase, StackId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerTrust {
    pub id: String,
    /// The stack whose runs these tokens are.
    pub stack_id: StackId,
    /// The token's `iss`, exactly: where the signing keys are discovered.
    pub issuer: String,
    /// The token's `aud` must contain this.
    pub audience: String,
    /// Pattern for the token's `sub` (`*` stands for any run of characters).
    pub subject: String,
    /// Patterns for other claims, every one of which must match.
    pub claims: BTreeMap<String, String>,
    /// The phases these tokens may get credentials for.
    pub phases: Vec<Phase>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    /// Each token is accepted once: its `jti` is kept until it expires,
    /// and a second use (on any replica) is refused.
    #[serde(default)]
    pub single_use_tokens: bool,
}

/// Body of `POST /v1/runner-trusts` and `PUT /v1/runner-trusts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunnerTrustInput {
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$", example = "prod-network")]
    pub stack_id: String,
    #[schema(
        example = "https://token.actions.githubusercontent.com",
        max_length = 256
    )]
    pub issuer: String,
    #[schema(example = "deputy", max_length = 256)]
    pub audience: String,
    #[schema(example = "repo:acme/network:ref:refs/heads/main", max_length = 256)]
    pub subject: String,
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// Required: `["read"]` for plan jobs, `["write"]` for apply jobs.
    #[schema(min_items = 1)]
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub description: String,
    /// Accept each token once (it must carry a `jti`): a leaked token is
    /// refused once its job has used it. The job's token source must mint
    /// a fresh token for every request (`deputy exec --id-token
    /// github-actions` does).
    #[serde(default)]
    pub single_use_tokens: bool,
}
