//! Attachments: which stacks use an integration, for which phases. An
//! attach, and an added phase, wait for their verification (see
//! `verification`); a removed phase goes at once.

use std::sync::Arc;

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::super::store::Once;
use super::super::store::attachments::AttachmentRecord;
use super::idempotency::{Created, Request, create_once};
use super::trust_policies::{external_ids, trust_policy_for};
use super::verification::{detached, pending, role_ok, verify, with_targets};
use super::{access, audited, page, parse, refused};
use crate::model::space::Need;
use crate::model::verification::Targets;
use crate::model::{IntegrationId, Phase, StackId};
use crate::wire::{
    Attachment, AttachmentInput, AttachmentUpdate, AuditEvent, Integration, List, PageQuery,
    ProblemCode, VerifyReport,
};

/// An attachment, and whether this request made it (else the very same
/// attachment already existed, and a retried attach adopts it).
pub struct Attached {
    pub attachment: Attachment,
    pub created: bool,
}

/// Adds the External IDs, which depend on the account and the integration.
async fn present(state: &AppState, records: Vec<AttachmentRecord>) -> ApiResult<Vec<Attachment>> {
    let mut out = Vec::with_capacity(records.len());
    let mut integration: Option<Integration> = None;
    for r in records {
        if integration
            .as_ref()
            .is_none_or(|i| i.id != r.integration_id)
        {
            integration = Some(state.store.integration(r.integration_id.as_str()).await?);
        }
        let i = integration.as_ref().expect("set above");
        out.push(Attachment {
            id: format!("{}/{}", r.integration_id, r.stack_id),
            external_ids: external_ids(state, i, &r.stack_id, &r.phases()),
            integration_id: r.integration_id,
            stack_id: r.stack_id,
            read: r.read,
            write: r.write,
            created_at: r.created_at,
            updated_at: r.updated_at,
            pending_handover: r.waiting_for,
        });
    }
    Ok(out)
}

/// Refuses unless the caller may do what `need` says to stack
/// `stack_id`'s attachment to integration `id`: `need` on the stack, sight
/// of the integration and, to attach, the integration in the stack's
/// reach. A stack or integration that does not exist is left to the
/// operation, which says which. The answer says whether the caller holds
/// the integration (else it only reaches it, and is told nothing of the
/// other stacks attached to it).
async fn permitted(
    state: &AppState,
    caller: &Caller,
    need: Need,
    id: &str,
    stack_id: &str,
    attaching: bool,
) -> ApiResult<bool> {
    let access = access::of(state, caller).await?;
    let stack = match state.store.stack(stack_id).await {
        Ok(stack) => stack,
        Err(ApiError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    // Both must be in sight before the level counts: a key learns
    // nothing of what it cannot see.
    access.require(Need::Read, &stack.space, "stack", stack_id)?;
    let integration = match state.store.integration(id).await {
        Ok(integration) => integration,
        Err(ApiError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    access.sees_integration(&integration.space, id)?;
    access.require(need, &stack.space, "stack", stack_id)?;
    if attaching {
        let (Ok(from), Ok(to)) = (stack.space.parse(), integration.space.parse()) else {
            return Ok(false);
        };
        if let Some(why) = access.tree.unreachable(&from, &to) {
            return Err(ApiError::conflict(
                ProblemCode::OutOfReach,
                format!(
                    "stack {stack_id:?} cannot use integration {:?}: {why}",
                    integration.name
                ),
            ));
        }
    }
    Ok(access.holds(&integration.space))
}

async fn one(state: &AppState, record: AttachmentRecord) -> ApiResult<Attachment> {
    Ok(present(state, vec![record]).await?.remove(0))
}

pub async fn create(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    input: AttachmentInput,
    once: Option<&Request>,
) -> ApiResult<Created<Attached>> {
    let target = format!("attachment/{id}/{}", input.stack_id);
    let stack_id = input.stack_id.clone();
    let create = || async {
        let event = AuditEvent::new(
            Some(caller.key_id()),
            crate::model::audit::ATTACHMENT_CREATE,
            &target,
        );
        let record = once.map(|r| r.once(&target, None));
        let attached = match permitted(state, caller, Need::Write, id, &input.stack_id, true).await
        {
            Ok(holds) => {
                attach_verified(state.clone(), id, input, event.clone(), record, holds).await
            }
            Err(e) => Err(e),
        };
        match attached {
            Ok((created, record)) => Ok(Attached {
                attachment: one(state, record).await?,
                created,
            }),
            Err(e) if verification_refused(&e) => Err(e),
            Err(e) => Err(refused(state, event, e).await),
        }
    };
    create_once(state, once, create, |_| async move {
        Ok(Attached {
            attachment: read(state, caller, id, &stack_id).await?,
            created: true,
        })
    })
    .await
}

/// A refusal the detached verification task audited itself.
fn verification_refused(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Conflict {
            code: ProblemCode::VerificationFailed,
            ..
        }
    )
}

/// Verifies the new stack's phases (and the role), then writes the
/// attachment; nothing is written, and nothing holds the stack's phases,
/// until the verification passes. `holds`: the caller holds the
/// integration (see [`trusted`]).
async fn attach_verified(
    state: Arc<AppState>,
    id: &str,
    input: AttachmentInput,
    audit: AuditEvent,
    once: Option<Once>,
    holds: bool,
) -> ApiResult<(bool, AttachmentRecord)> {
    let integration_id: IntegrationId = id
        .parse()
        .map_err(|_| ApiError::not_found("integration", id))?;
    let (read, write) = (input.read, input.write);
    if let Some(existing) = state
        .store
        .check_attachable(id, &input.stack_id, read, write)
        .await?
    {
        return Ok((false, existing));
    }
    let stack: StackId = parse("stack_id", &input.stack_id)?;
    let integration = state.store.integration(id).await?;
    needs_policy_within_limit(&state, &integration, &stack, Phase::from_flags(read, write)).await?;
    if !state.settings.verify_on_attach || integration.generate_credentials_in_worker {
        let record = state
            .store
            .attach(
                &integration_id,
                &stack,
                AttachmentUpdate { read, write },
                None,
                &audit,
                once.as_ref(),
            )
            .await?;
        return Ok((true, record));
    }
    let targets = vec![(stack.clone(), Phase::from_flags(read, write))];
    let trusted = trusted(&state, id, &targets, holds).await?;
    let change = pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    detached(state, change, async move {
        let report = verify(&task_state, &integration, &targets, &trusted, &[]).await;
        if !report.ok {
            return Err(refuse_with_report(&task_state, id_of(&integration), report, audit).await);
        }
        let record = task_state
            .store
            .attach(
                &integration_id,
                &stack,
                AttachmentUpdate { read, write },
                Some(&report),
                &audit,
                once.as_ref(),
            )
            .await?;
        Ok((true, record))
    })
    .await
}

/// The stacks the statement of a failed verification shows: every stack
/// the role must trust once the change is made, for a caller that holds
/// the integration; the change's own for one that only reaches it (the
/// others are other teams').
async fn trusted(state: &AppState, id: &str, targets: &Targets, holds: bool) -> ApiResult<Targets> {
    if !holds {
        return Ok(targets.clone());
    }
    Ok(with_targets(state.store.attached(id).await?, targets))
}

/// Refuses a change that would make the role need a trust policy longer
/// than the broker's limit: no role could hold it, so verification would
/// only fail later with a vaguer message.
async fn needs_policy_within_limit(
    state: &AppState,
    integration: &Integration,
    stack: &StackId,
    phases: Vec<Phase>,
) -> ApiResult<()> {
    let mut stacks = state.store.attached(integration.id.as_str()).await?;
    stacks.retain(|(s, _)| s != stack);
    stacks.push((stack.clone(), phases));
    trust_policy_for(state, integration, &stacks).map(|_| ())
}

fn id_of(integration: &Integration) -> String {
    integration.id.to_string()
}

/// A change refused by its verification: the role-level verdict is still
/// news (an unsafe role stops vending for every stack), so it is recorded
/// with the refusal's audit event.
async fn refuse_with_report(
    state: &AppState,
    integration: String,
    report: VerifyReport,
    audit: AuditEvent,
) -> ApiError {
    let refusal = AuditEvent {
        outcome: ProblemCode::VerificationFailed.to_string(),
        detail: report.error.clone(),
        ..audit
    };
    let role_ok = role_ok(&report);
    match state
        .store
        .record_verification(&integration, &report, role_ok, &[], &refusal)
        .await
    {
        Ok(_) => ApiError::verification_failed(report),
        Err(e) => e,
    }
}

/// The integration's attachments, by stack, a page at a time: all of them
/// for a caller whose subtree holds the integration, those of its own
/// stacks for one that only reaches it.
pub async fn of_integration(
    state: &AppState,
    caller: &Caller,
    id: &str,
    q: &PageQuery,
) -> ApiResult<List<Attachment>> {
    let access = access::of(state, caller).await?;
    let integration = access.seen_integration(state, id).await?;
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let page = if access.holds(&integration.space) {
        page
    } else {
        page.in_spaces(access.subtree())
    };
    let records = state.store.attachments_of_integration(id, &page).await?;
    let list = page::list(records, &page, |r| vec![r.stack_id.to_string()]);
    Ok(List {
        items: present(state, list.items).await?,
        next_cursor: list.next_cursor,
    })
}

/// The stack's attachments, by integration, a page at a time.
pub async fn of_stack(
    state: &AppState,
    caller: &Caller,
    id: &str,
    q: &PageQuery,
) -> ApiResult<List<Attachment>> {
    let access = access::of(state, caller).await?;
    access.stack(state, Need::Read, id).await?;
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let records = state.store.attachments_of_stack(id, &page).await?;
    let list = page::list(records, &page, |r| vec![r.integration_id.to_string()]);
    Ok(List {
        items: present(state, list.items).await?,
        next_cursor: list.next_cursor,
    })
}

/// How many of the caller's stacks each integration has attached, by
/// integration id (one query, for the integrations list).
pub async fn counts(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<std::collections::HashMap<String, i64>> {
    let access = access::of(state, caller).await?;
    state
        .store
        .attachment_counts(access.subtree().map(|s| s.join(",")))
        .await
}

pub async fn read(
    state: &AppState,
    caller: &Caller,
    id: &str,
    stack_id: &str,
) -> ApiResult<Attachment> {
    permitted(state, caller, Need::Read, id, stack_id, false).await?;
    let record = state.store.attachment(id, stack_id).await?;
    one(state, record).await
}

pub async fn update(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    stack_id: &str,
    input: AttachmentUpdate,
) -> ApiResult<Attachment> {
    let target = format!("attachment/{id}/{stack_id}");
    let event = AuditEvent::new(
        Some(caller.key_id()),
        crate::model::audit::ATTACHMENT_UPDATE,
        &target,
    );
    let updated = match permitted(state, caller, Need::Write, id, stack_id, false).await {
        Ok(holds) => {
            update_verified(state.clone(), id, stack_id, input, event.clone(), holds).await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(record) => one(state, record).await,
        Err(e) if verification_refused(&e) => Err(e),
        Err(e) => Err(refused(state, event, e).await),
    }
}

/// An added phase is verified before it takes effect; a removed one goes
/// at once.
async fn update_verified(
    state: Arc<AppState>,
    id: &str,
    stack_id: &str,
    input: AttachmentUpdate,
    audit: AuditEvent,
    holds: bool,
) -> ApiResult<AttachmentRecord> {
    let before = state.store.attachment(id, stack_id).await?;
    let added: Vec<Phase> = Phase::from_flags(input.read, input.write)
        .into_iter()
        .filter(|p| !before.phases().contains(p))
        .collect();
    let integration = state.store.integration(id).await?;
    if !added.is_empty() {
        let all = Phase::from_flags(input.read, input.write);
        needs_policy_within_limit(&state, &integration, &before.stack_id, all).await?;
    }
    if added.is_empty()
        || !state.settings.verify_on_attach
        || integration.generate_credentials_in_worker
    {
        return state
            .store
            .update_attachment(id, stack_id, input.read, input.write, None, &audit)
            .await;
    }
    let targets = vec![(before.stack_id.clone(), added)];
    let trusted = trusted(&state, id, &targets, holds).await?;
    let change = pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    let (id, stack_id) = (id.to_string(), stack_id.to_string());
    detached(state, change, async move {
        let report = verify(&task_state, &integration, &targets, &trusted, &[]).await;
        if !report.ok {
            return Err(refuse_with_report(&task_state, id, report, audit).await);
        }
        task_state
            .store
            .update_attachment(
                &id,
                &stack_id,
                input.read,
                input.write,
                Some(&report),
                &audit,
            )
            .await
    })
    .await
}

pub async fn remove(state: &AppState, caller: &Caller, id: &str, stack_id: &str) -> ApiResult<()> {
    let target = format!("attachment/{id}/{stack_id}");
    audited(
        state,
        caller,
        crate::model::audit::ATTACHMENT_DELETE,
        &target,
        |audit| async move {
            permitted(state, caller, Need::Write, id, stack_id, false).await?;
            state.store.detach(id, stack_id, &audit).await
        },
    )
    .await
}
