//! The broker's operations, one file per object: what the HTTP API and the
//! console both do. Each operation takes the state and, for a change, the
//! caller; validates its input through `model`; writes through the store
//! with its audit event in the same transaction; and returns domain
//! results or an `ApiError`. Neither HTTP nor HTML is known here: the
//! handlers in `http` and the pages in `console` shape the answers.
//!
//! - [`access`]: who may do what where (the caller's key against the
//!   space tree), asked by every operation below;
//! - [`spaces`], [`stacks`], [`integrations`], [`attachments`], [`keys`],
//!   [`runner_trusts`]: the registry;
//! - [`trust_policies`]: External IDs, trust policies and role templates;
//! - [`verification`]: when roles are verified, what is recorded, and how
//!   a change waits for it; the background re-verification;
//! - [`credentials`]: vending for runs;
//! - [`audit`]: reading the trail;
//! - [`sessions`]: the console's sign-in sessions;
//! - [`page`]: paging of list answers;
//! - [`idempotency`]: creates retried with an `Idempotency-Key`.

pub mod access;
pub mod attachments;
pub mod audit;
pub mod credentials;
pub mod idempotency;
pub mod integrations;
pub mod keys;
pub mod page;
pub mod runner_trusts;
pub mod sessions;
pub mod spaces;
pub mod stacks;
pub mod trust_policies;
pub mod verification;

use std::future::Future;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::state::AppState;
use crate::model::StackId;
use crate::wire::AuditEvent;

/// Runs a change and records it in the audit trail. The change gets its
/// success event and writes it in its own transaction, so a committed
/// change always has its event; a refused change is recorded here, with
/// the problem code as outcome.
pub async fn audited<T, F, Fut>(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
    change: F,
) -> ApiResult<T>
where
    F: FnOnce(AuditEvent) -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let event = AuditEvent::new(Some(caller.key_id()), action, target);
    match change(event.clone()).await {
        Ok(v) => Ok(v),
        Err(e) => Err(refused(state, event, e).await),
    }
}

/// Records that the change `event` describes was refused with `e`, and
/// hands `e` back.
pub async fn refused(state: &AppState, event: AuditEvent, e: ApiError) -> ApiError {
    let recorded = state
        .store
        .record_audit(&AuditEvent {
            id: ulid::Ulid::new().to_string(),
            outcome: e.code().to_string(),
            detail: e.to_string(),
            ..event
        })
        .await;
    match recorded {
        Ok(()) => e,
        Err(store) => store,
    }
}

/// Parses an input with a model type, blaming `field` when it fails.
pub fn parse<T: std::str::FromStr<Err = crate::model::Invalid>>(
    field: &str,
    text: &str,
) -> ApiResult<T> {
    text.parse()
        .map_err(|e: crate::model::Invalid| ApiError::invalid(field, e.0))
}

/// The stack a `field` names, which must exist (attached or not): a 422
/// on `field` otherwise, since the caller named it in a request.
pub async fn existing_stack(state: &AppState, field: &str, text: &str) -> ApiResult<StackId> {
    let stack: StackId = parse(field, text)?;
    state
        .store
        .stack(stack.as_str())
        .await
        .map_err(|e| match e {
            ApiError::NotFound { .. } => {
                ApiError::invalid(field, format!("stack {text:?} does not exist"))
            }
            other => other,
        })?;
    Ok(stack)
}

/// The stack a `field` names, which must exist and be one the caller may
/// change (`write`): runner keys and runner trusts act for a stack, so
/// they are made by those who may change it. A stack outside the caller's
/// subtree is answered as one that does not exist.
pub async fn writable_stack(
    state: &AppState,
    access: &access::Access,
    field: &str,
    text: &str,
) -> ApiResult<StackId> {
    let stack = existing_stack(state, field, text).await?;
    let space = state.store.stack(stack.as_str()).await?.space;
    match access.require(crate::model::space::Need::Write, &space, "stack", text) {
        Err(ApiError::NotFound { .. }) => Err(ApiError::invalid(
            field,
            format!("stack {text:?} does not exist"),
        )),
        other => other.map(|()| stack),
    }
}
