//! Runner trusts: which OIDC ID tokens may get credentials for which
//! stack and phases. Create, list, read, replace and delete; every change
//! audited.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::access::{self, Access};
use super::idempotency::{Created, Request, create_once};
use super::{audited, page, writable_stack};
use crate::model::runner_trust::{check_audience, check_claims, check_issuer, check_subject};
use crate::model::space::Need;
use crate::model::timestamp::now;
use crate::wire::{AuditEvent, List, RunnerTrust, RunnerTrustInput, SpacedPageQuery};

/// Validates input into a trust record through `model::runner_trust`.
async fn validate(
    state: &AppState,
    access: &Access,
    id: String,
    input: RunnerTrustInput,
) -> ApiResult<RunnerTrust> {
    let stack_id = writable_stack(state, access, "stack_id", &input.stack_id).await?;
    let field = |name: &'static str| move |e: crate::model::Invalid| ApiError::invalid(name, e.0);
    check_issuer(&input.issuer).map_err(field("issuer"))?;
    check_audience(&input.audience).map_err(field("audience"))?;
    check_subject(&input.issuer, &input.subject).map_err(field("subject"))?;
    check_claims(&input.claims).map_err(field("claims"))?;
    let mut phases = input.phases;
    phases.sort();
    phases.dedup();
    if phases.is_empty() {
        return Err(ApiError::invalid(
            "phases",
            "choose the phases these tokens may get credentials for: [\"read\"] for plan jobs, \
             [\"write\"] for apply jobs",
        ));
    }
    let at = now();
    Ok(RunnerTrust {
        id,
        stack_id,
        issuer: input.issuer,
        audience: input.audience,
        subject: input.subject,
        claims: input.claims,
        phases,
        description: input.description,
        created_at: at.clone(),
        updated_at: at,
        single_use_tokens: input.single_use_tokens,
    })
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: RunnerTrustInput,
    once: Option<&Request>,
) -> ApiResult<Created<RunnerTrust>> {
    let id = ulid::Ulid::new().to_string().to_lowercase();
    let target = format!("runner-trust/{id}");
    let create = || {
        audited(
            state,
            caller,
            crate::model::audit::RUNNER_TRUST_CREATE,
            &target,
            |audit| async move {
                let access = access::of(state, caller).await?;
                let trust = validate(state, &access, id, input).await?;
                let audit = AuditEvent {
                    stack_id: Some(trust.stack_id.to_string()),
                    ..audit
                };
                let record = once.map(|r| r.once(&audit.target, None));
                state
                    .store
                    .insert_runner_trust(&trust, &audit, record.as_ref())
                    .await?;
                Ok(trust)
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        read(state, caller, earlier.id("runner-trust")?).await
    })
    .await
}

/// Runner trusts of the caller's subtree's stacks, oldest first, a page at
/// a time.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: &SpacedPageQuery,
) -> ApiResult<List<RunnerTrust>> {
    let access = access::of(state, caller).await?;
    let page = page::page(q.limit, q.cursor.as_deref(), 2)?
        .in_spaces(access.below(q.space.as_deref(), "space")?);
    let items = state.store.runner_trusts(&page).await?;
    Ok(page::list(items, &page, |t| {
        vec![t.created_at.clone(), t.id.clone()]
    }))
}

pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<RunnerTrust> {
    let access = access::of(state, caller).await?;
    held(state, &access, Need::Read, id).await
}

/// The trust `id`, if the caller may do what `need` says to its stack.
async fn held(state: &AppState, access: &Access, need: Need, id: &str) -> ApiResult<RunnerTrust> {
    let trust = state.store.runner_trust(id).await?;
    let space = state.store.stack(trust.stack_id.as_str()).await?.space;
    access.require(need, &space, "runner trust", id)?;
    Ok(trust)
}

pub async fn replace(
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: RunnerTrustInput,
) -> ApiResult<RunnerTrust> {
    let target = format!("runner-trust/{id}");
    audited(
        state,
        caller,
        crate::model::audit::RUNNER_TRUST_UPDATE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            let existing = held(state, &access, Need::Write, id).await?;
            let trust = RunnerTrust {
                created_at: existing.created_at,
                ..validate(state, &access, id.to_string(), input).await?
            };
            let audit = AuditEvent {
                stack_id: Some(trust.stack_id.to_string()),
                ..audit
            };
            state.store.replace_runner_trust(&trust, &audit).await
        },
    )
    .await
}

/// Deletes a runner trust: its tokens get nothing from now on.
pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let target = format!("runner-trust/{id}");
    audited(
        state,
        caller,
        crate::model::audit::RUNNER_TRUST_DELETE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            held(state, &access, Need::Write, id).await?;
            state.store.delete_runner_trust(id, &audit).await
        },
    )
    .await
}
