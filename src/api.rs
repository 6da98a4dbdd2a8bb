//! The broker's HTTP API types, shared by the broker (`broker::api`), its
//! client (`client`), the Terraform provider and the CLI, so both ends of
//! the wire are compiled from one definition.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Phase;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    /// The principal customer trust policies must allow.
    pub aws_principal_arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub space: String,
    pub labels: Labels,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/stacks` and `PUT /v1/stacks/{id}` (where `id`, if
/// given, must match the path: a stack's id never changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Defaults to the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Defaults to "root".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub role_arn: String,
    pub region: String,
    pub duration_seconds: i64,
    pub generate_credentials_in_worker: bool,
    /// Custom External ID; worker mode only.
    pub external_id: Option<String>,
    pub tag_session: bool,
    pub labels: Labels,
    pub space: String,
    pub description: String,
    pub last_verified_at: Option<String>,
    /// Outcome of the last verification, as recorded by the broker.
    pub last_verification: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/integrations` and `PUT /v1/integrations/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    pub name: String,
    pub role_arn: String,
    /// Defaults to "us-east-1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// 900 to 43200; defaults to 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    #[serde(default)]
    pub generate_credentials_in_worker: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub tag_session: bool,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `<integration_id>/<stack_id>`.
    pub id: String,
    pub integration_id: String,
    pub stack_id: String,
    pub read: bool,
    pub write: bool,
    /// The External ID of each phase the attachment serves.
    pub external_ids: BTreeMap<Phase, String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/integrations/{id}/attachments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub stack_id: String,
    #[serde(default = "yes")]
    pub read: bool,
    #[serde(default = "yes")]
    pub write: bool,
}

/// Body of `PUT /v1/integrations/{id}/attachments/{stack_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentUpdate {
    pub read: bool,
    pub write: bool,
}

fn yes() -> bool {
    true
}

/// `GET /v1/integrations/{id}/external-ids?stack_id=S&phases=read,write`:
/// what a customer pastes into a trust policy for one stack, whether or not
/// it is attached yet (the role must trust deputy before attaching works).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalIds {
    pub integration_id: String,
    pub stack_id: String,
    pub external_ids: BTreeMap<Phase, String>,
    /// One statement covering every requested phase, as JSON.
    pub assume_role_policy_statement: String,
}

/// `GET /v1/integrations/{id}/trust-policy`: the role's whole trust policy
/// over every attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustPolicy {
    pub integration_id: String,
    pub principal_arn: String,
    /// Active External IDs, stack by stack.
    pub external_ids: Vec<String>,
    pub document: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Admin,
    Runner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub role: KeyRole,
    pub stack_id: Option<String>,
    pub phases: Vec<Phase>,
    pub description: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Body of `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub role: KeyRole,
    /// Runner keys only: the one stack they act for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    /// Runner keys only; defaults to both phases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<Phase>>,
    #[serde(default)]
    pub description: String,
    /// Lifetime; no expiry when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

impl ApiKeyInput {
    /// A runner key for every phase of one stack, without expiry; set the
    /// other fields with struct update syntax.
    pub fn runner(stack_id: &str) -> ApiKeyInput {
        ApiKeyInput {
            role: KeyRole::Runner,
            stack_id: Some(stack_id.into()),
            phases: None,
            description: String::new(),
            expires_in_seconds: None,
        }
    }
}

/// The answer to key creation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: String,
    pub at: String,
    /// The API key that acted, if any.
    pub key_id: Option<String>,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub stack_id: Option<String>,
    pub phase: Option<String>,
    pub run_id: Option<String>,
    pub integration_id: Option<String>,
    pub session_name: Option<String>,
    pub expires_at: Option<String>,
    pub detail: String,
}

/// List answers wrap their items so fields can be added later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    pub items: Vec<T>,
}

/// Body of `POST /v1/credentials` (runner keys only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    /// When given, must be the runner key's stack (catches a key used for
    /// the wrong stack with a clear error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    pub phase: Phase,
    /// The run's id; becomes the AWS session name (sanitized), so
    /// CloudTrail shows which run did what.
    pub run_id: String,
}

/// The answer to `POST /v1/credentials`. In broker mode it carries
/// temporary credentials (never stored, never logged); in worker mode what
/// the worker needs to assume the role itself.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedCredentials {
    /// `broker` or `worker`.
    pub mode: String,
    pub role_arn: String,
    pub region: String,
    pub session_name: String,
    pub external_id: String,
    pub duration_seconds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_role_arn: Option<String>,
}

/// Secrets stay out of debug output.
impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("mode", &self.mode)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}
