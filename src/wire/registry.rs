//! The registry's objects as the API shows them, and the bodies that
//! create and change them: the account, stacks, AWS integrations and
//! attachments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{VerificationState, VerifyReport};
use crate::model::integration::TrustScope;
use crate::model::trust_policy::Actions;
use crate::model::verification::VendConfig;
use crate::model::{
    AccountName, ExternalId, IntegrationId, Phase, PrincipalArn, PrincipalKind, Region, RoleArn,
    StackId,
};

pub type Labels = BTreeMap<String, String>;

/// `GET /v1/account`: who this broker is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    /// The first field of every External ID.
    pub name: AccountName,
    /// The principal customer trust policies must allow.
    pub aws_principal_arn: PrincipalArn,
    /// `role` or `user`; `account` only when the broker was started with
    /// `--allow-account-principal`.
    pub aws_principal_kind: PrincipalKind,
    /// The broker's version (empty from brokers older than this field):
    /// replicas in a rolling upgrade say which one answered.
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stack {
    pub id: StackId,
    pub name: String,
    pub space: String,
    pub labels: BTreeMap<String, String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/stacks` and `PUT /v1/stacks/{id}` (where `id` must
/// match the path: a stack's id is inside its External IDs and never
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StackInput {
    /// The stack's slug.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$", example = "prod-network")]
    pub id: String,
    /// Display name; defaults to the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    /// The id of the space it belongs to; defaults to the creating key's
    /// space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub space: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub description: String,
}

impl StackInput {
    /// A stack with this id and every other field defaulted.
    pub fn with_id(id: impl Into<String>) -> StackInput {
        StackInput {
            id: id.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub role_arn: RoleArn,
    pub region: Region,
    pub duration_seconds: i64,
    pub generate_credentials_in_worker: bool,
    /// Custom External ID; worker mode only.
    pub external_id: Option<ExternalId>,
    pub tag_session: bool,
    /// Vends pass the run id as SourceIdentity, which CloudTrail shows and
    /// which survives role chaining; the trust policy must then allow
    /// `sts:SetSourceIdentity`.
    #[serde(default)]
    pub set_source_identity: bool,
    /// What the role's trust policy accepts: exact External IDs per stack,
    /// or one pattern per phase for the whole integration.
    #[serde(default)]
    pub trust_scope: TrustScope,
    /// Managed policies passed as session policies on `read` sessions: a
    /// plan's permissions are the role's intersected with these (AWS's
    /// `arn:aws:iam::aws:policy/ReadOnlyAccess` is the usual choice).
    #[serde(default)]
    pub read_session_policy_arns: Vec<String>,
    /// The same for `write` sessions.
    #[serde(default)]
    pub write_session_policy_arns: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub space: String,
    pub description: String,
    pub last_verified_at: Option<String>,
    /// Outcome of the last verification.
    pub last_verification: Option<VerifyReport>,
    /// Whether the current configuration may vend.
    #[serde(default = "unverified")]
    pub verification_state: VerificationState,
    pub created_at: String,
    pub updated_at: String,
}

fn unverified() -> VerificationState {
    VerificationState::Unverified
}

impl Integration {
    /// What a trust policy must grant for what this integration's vends
    /// pass (session tags need `sts:TagSession`).
    pub fn trust_actions(&self) -> Actions {
        Actions {
            tag_session: self.tag_session,
            set_source_identity: self.set_source_identity,
        }
    }

    /// Everything that makes a vend's AssumeRole call what it is; its
    /// fingerprint is what verification records and vends check.
    pub fn vend_config(&self) -> VendConfig {
        VendConfig {
            role_arn: self.role_arn.to_string(),
            region: self.region.to_string(),
            duration_seconds: self.duration_seconds,
            worker_mode: self.generate_credentials_in_worker,
            custom_external_id: self.external_id.as_ref().map(|e| e.to_string()),
            tag_session: self.tag_session,
            set_source_identity: self.set_source_identity,
            trust_scope: self.trust_scope,
            read_session_policy_arns: self.read_session_policy_arns.clone(),
            write_session_policy_arns: self.write_session_policy_arns.clone(),
        }
    }

    /// The session policies every AssumeRole for `phase` passes.
    pub fn session_policy_arns(&self, phase: Phase) -> &[String] {
        match phase {
            Phase::Read => &self.read_session_policy_arns,
            Phase::Write => &self.write_session_policy_arns,
        }
    }
}

/// Body of `POST /v1/integrations` and `PUT /v1/integrations/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// Unique.
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[schema(example = "arn:aws:iam::123456789012:role/deploy")]
    pub role_arn: String,
    /// Defaults to `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z]{2}(-[a-z]+)+-[0-9]+$", example = "eu-west-1")]
    pub region: Option<String>,
    /// Lifetime of vended sessions; defaults to 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 900, maximum = 43200)]
    pub duration_seconds: Option<i64>,
    #[serde(default)]
    pub generate_credentials_in_worker: bool,
    /// Custom External ID; only with `generate_credentials_in_worker`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9_+=,.@:/-]{2,1224}$")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub tag_session: bool,
    /// Pass the run id as SourceIdentity; defaults to false.
    #[serde(default)]
    pub set_source_identity: bool,
    /// `stack` (the default) or `integration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TrustScope>)]
    pub trust_scope: Option<String>,
    /// Managed policy ARNs passed as session policies on `read` sessions
    /// (at most 10), e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub read_session_policy_arns: Vec<String>,
    /// The same for `write` sessions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub write_session_policy_arns: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The id of the space it belongs to; defaults to the creating key's
    /// space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub space: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// Query of `GET /v1/integrations`: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntegrationFilter {
    /// Only integrations in this space and below it.
    pub space: Option<String>,
    /// `key=value`, split at the first `=`; repeat for several labels
    /// (`?label=team=net&label=env=prod`). Values may hold any character.
    #[param(style = Form, explode)]
    #[serde(default)]
    pub label: Vec<String>,
    /// At most this many matches (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; opaque.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// `<integration_id>/<stack_id>`.
    pub id: String,
    pub integration_id: IntegrationId,
    pub stack_id: StackId,
    pub read: bool,
    pub write: bool,
    /// The External ID of each phase the attachment serves.
    pub external_ids: BTreeMap<Phase, ExternalId>,
    pub created_at: String,
    pub updated_at: String,
    /// Phases this attachment waits to serve, each with the integration
    /// that serves it until that attachment (or that phase of it) is
    /// removed: a stack moving between integrations keeps its credentials
    /// throughout (make-before-break). Empty once the attachment serves
    /// all its phases.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_handover: BTreeMap<Phase, IntegrationId>,
}

/// Body of `POST /v1/integrations/{id}/attachments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub stack_id: String,
    /// Serve the stack's plans; defaults to true. `read` and `write` may
    /// not both be false.
    #[serde(default = "yes")]
    pub read: bool,
    /// Serve the stack's applies; defaults to true.
    #[serde(default = "yes")]
    pub write: bool,
}

/// Body of `PUT /v1/integrations/{id}/attachments/{stack_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentUpdate {
    /// `read` and `write` may not both be false.
    pub read: bool,
    pub write: bool,
}

fn yes() -> bool {
    true
}
