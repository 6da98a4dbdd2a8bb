//! What a run asks the broker for, and what it gets: temporary credentials
//! (broker mode) or what a worker needs to assume the role itself (worker
//! mode). Secrets here are never stored or logged, and `Debug` hides them.

use serde::{Deserialize, Serialize};

use crate::model::{ExternalId, Phase, Region, RoleArn};

/// Body of `POST /v1/credentials` (runner keys only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    /// When given, must be the runner key's stack (catches a key used for
    /// the wrong stack with a clear error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub stack_id: Option<String>,
    pub phase: Phase,
    /// The run's id; becomes the AWS session name (sanitized), so CloudTrail
    /// shows which run did what.
    #[schema(min_length = 1, max_length = 256, pattern = "^[ -~]{1,256}$")]
    pub run_id: String,
}

/// The answer to `POST /v1/credentials`, tagged by `mode`.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum IssuedCredentials {
    /// The broker assumed the role: here are the session's credentials.
    Broker(BrokerCredentials),
    /// A worker assumes the role with its own identity.
    Worker(WorkerAssignment),
}

/// The AssumeRole call a run's session comes from, made by the broker
/// (broker mode) or to be made by the worker (worker mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleSession {
    pub role_arn: RoleArn,
    pub region: Region,
    pub session_name: String,
    pub external_id: ExternalId,
    pub duration_seconds: i64,
    /// The SourceIdentity the session carries (broker mode), or to pass as
    /// SourceIdentity (worker mode), for integrations with
    /// `set_source_identity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrokerCredentials {
    #[serde(flatten)]
    pub session: RoleSession,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// RFC 3339.
    pub expiration: String,
    pub assumed_role_arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerAssignment {
    #[serde(flatten)]
    pub session: RoleSession,
    /// Pass these as session policies (`PolicyArns`), as broker-mode vends
    /// of this phase do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_policy_arns: Vec<String>,
}

/// Secrets stay out of debug output.
impl std::fmt::Debug for BrokerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerCredentials")
            .field("role_arn", &self.session.role_arn)
            .field("session_name", &self.session.session_name)
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssuedCredentials::Broker(c) => c.fmt(f),
            IssuedCredentials::Worker(w) => w.fmt(f),
        }
    }
}

impl IssuedCredentials {
    pub fn mode(&self) -> &'static str {
        match self {
            IssuedCredentials::Broker(_) => "broker",
            IssuedCredentials::Worker(_) => "worker",
        }
    }

    pub fn source_identity(&self) -> Option<&str> {
        match self {
            IssuedCredentials::Broker(c) => c.session.source_identity.as_deref(),
            IssuedCredentials::Worker(w) => w.session.source_identity.as_deref(),
        }
    }

    pub fn expiration(&self) -> Option<&str> {
        match self {
            IssuedCredentials::Broker(c) => Some(&c.expiration),
            IssuedCredentials::Worker(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_answers_read_back_and_missing_secrets_are_an_error() {
        let worker = serde_json::json!({
            "mode": "worker",
            "role_arn": "arn:aws:iam::123456789012:role/x",
            "region": "eu-west-1",
            "session_name": "run-1",
            "external_id": "acme@x",
            "duration_seconds": 900
        });
        let parsed: IssuedCredentials = serde_json::from_value(worker.clone()).unwrap();
        assert_eq!(parsed.mode(), "worker");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), worker);
        let mut broker = worker;
        broker["mode"] = "broker".into();
        let err = serde_json::from_value::<IssuedCredentials>(broker).unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
    }
}
