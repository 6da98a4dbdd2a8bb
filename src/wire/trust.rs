//! What a customer pastes into a role's trust policy: External IDs and
//! ready statements and documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::integration::TrustScope;
use crate::model::{ExternalId, IntegrationId, Phase, PrincipalArn, StackId};

/// Query of `GET /v1/integrations/{id}/external-ids`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExternalIdQuery {
    /// The stack, attached or not (the role must trust deputy before an
    /// attachment can be verified).
    pub stack_id: String,
    /// Comma-separated `read`, `write`; defaults to both.
    pub phases: Option<String>,
}

/// `GET /v1/integrations/{id}/external-ids`: one stack's External IDs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExternalIds {
    pub integration_id: IntegrationId,
    pub stack_id: StackId,
    pub external_ids: BTreeMap<Phase, ExternalId>,
    /// One statement covering every requested phase, as JSON: this
    /// stack's External IDs in stack scope, the integration's patterns in
    /// integration scope.
    pub assume_role_policy_statement: String,
    /// The statement's length as IAM counts it (whitespace not counted).
    pub length: usize,
}

/// `GET /v1/integrations/{id}/trust-policy`: the role's whole trust policy
/// over every attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustPolicy {
    pub integration_id: IntegrationId,
    pub principal_arn: PrincipalArn,
    pub trust_scope: TrustScope,
    /// Active External IDs, stack by stack.
    pub external_ids: Vec<ExternalId>,
    /// What the condition lists: the External IDs in stack scope, one
    /// `StringLike` pattern per phase in use in integration scope.
    pub accepted: Vec<String>,
    /// Number of attached stacks.
    pub stacks: usize,
    /// Empty when nothing is attached: a condition with an empty list is
    /// refused by IAM, and such a role trusts nobody through deputy.
    pub document: String,
    /// The document's length as IAM counts it (whitespace not counted).
    pub length: usize,
    /// The broker's `--max-trust-policy-length`; a longer document is
    /// refused with `trust_policy_too_long` instead.
    pub max_length: usize,
}

/// Query of `GET /v1/integrations/{id}/role-template`. Repeat a key for
/// several values (`?managed_policy_arn=A&managed_policy_arn=B`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleTemplateQuery {
    /// `cloudformation` (the default), `terraform` or `json`.
    pub format: Option<String>,
    /// Managed policies to attach to the role.
    #[param(style = Form, explode)]
    #[serde(default)]
    pub managed_policy_arn: Vec<String>,
    /// Stacks to trust besides the attached ones, for a role created
    /// before its attachments (which are verified against it).
    #[param(style = Form, explode)]
    #[serde(default)]
    pub stack_id: Vec<String>,
    /// Also create an S3 bucket for Terraform state, and let the role use it.
    pub state_bucket: Option<String>,
    /// Also create a DynamoDB lock table (needs `state_bucket`).
    pub lock_table: Option<String>,
    /// Where you will host the CloudFormation template (https): the answer
    /// then carries a console quick-create link for it.
    pub template_url: Option<String>,
}

/// `GET /v1/integrations/{id}/role-template`: the role, ready to deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleTemplateDocument {
    pub integration_id: IntegrationId,
    /// `cloudformation`, `terraform` or `json`.
    pub format: String,
    /// A file name for `content`.
    pub file_name: String,
    pub content: String,
    /// The trust policy's length as IAM counts it.
    pub trust_policy_length: usize,
    /// CloudFormation's quick-create link, when `template_url` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_create_url: Option<String>,
}
