//! Every type that crosses the broker's HTTP API, in one place: requests,
//! responses, query parameters, problem details, verification reports and
//! credentials. The broker (`broker::http`), its client (`client`), the
//! Terraform provider and the CLI all compile against these definitions,
//! and the OpenAPI document is generated from them (`broker::http`), so
//! the two ends of the wire and its description cannot drift apart.
//!
//! Identifiers are domain types from `model` (`StackId`, `IntegrationId`,
//! `Phase`, `ExternalId`, `RoleArn`, ...), so a value that breaks a rule
//! cannot be represented. Request bodies keep user-typed text as `String`
//! where the broker must answer a bad value with a 422 naming the field
//! (a domain type would fail deserialization with a 400 instead).
//!
//! - [`problem`]: the error body and its stable codes;
//! - [`registry`]: stacks, integrations, attachments, the account;
//! - [`trust`]: External IDs and trust policies;
//! - [`verification`]: what verifying a role found;
//! - [`credentials`]: what runs ask for and get;
//! - [`spaces`]: the tree stacks, integrations and keys belong to;
//! - [`keys`], [`runner_trusts`], [`audit`]: API keys, OIDC runner
//!   identities and the audit trail;
//! - [`schema`]: OpenAPI schemas of the `model` types.

pub mod audit;
pub mod credentials;
pub mod keys;
pub mod problem;
pub mod registry;
pub mod runner_trusts;
mod schema;
pub mod spaces;
pub mod trust;
pub mod verification;

use serde::{Deserialize, Serialize};

/// The header naming one request, in the broker's answer and its logs: a
/// client may send its own (up to 64 letters, digits, `-`, `_`, `.`),
/// otherwise the broker assigns one. Quote it when reporting a problem.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub use audit::{AuditEvent, AuditFilter};
pub use credentials::{
    BrokerCredentials, CredentialsRequest, IssuedCredentials, RoleSession, WorkerAssignment,
};
pub use keys::{ApiKey, ApiKeyInput, CreatedApiKey, KeyRole};
pub use problem::{Problem, ProblemCode};
pub use registry::{
    Account, Attachment, AttachmentInput, AttachmentUpdate, Integration, IntegrationFilter,
    IntegrationInput, Labels, Stack, StackInput,
};
pub use runner_trusts::{RunnerTrust, RunnerTrustInput};
pub use spaces::{Space, SpaceInput};
pub use trust::{
    ExternalIdQuery, ExternalIds, RoleTemplateDocument, RoleTemplateQuery, TrustPolicy,
};
pub use verification::{Step, StepOutcome, VerificationState, VerifyQuery, VerifyReport};

/// One page of a list. A page may hold fewer than `limit` items and still
/// have a next one; the list is complete only once `next_cursor` is
/// absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Paging of a list route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// At most this many items (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; opaque.
    pub cursor: Option<String>,
}

/// Paging of a list of objects that belong to spaces (stacks, keys,
/// runner trusts), and which spaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpacedPageQuery {
    /// At most this many items (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; opaque.
    pub cursor: Option<String>,
    /// Only objects in this space and below it (default: the key's own
    /// space, which is everything the key sees).
    pub space: Option<String>,
}

impl From<PageQuery> for SpacedPageQuery {
    fn from(q: PageQuery) -> SpacedPageQuery {
        SpacedPageQuery {
            limit: q.limit,
            cursor: q.cursor,
            space: None,
        }
    }
}
