//! `/v1/integrations/{id}/attachments` and `/v1/stacks/{id}/attachments`:
//! which stacks use an integration, for which phases.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::store::attachments::AttachmentRecord;
use super::super::verification;
use super::openapi;
use super::{AppState, Json, Path, Query, Route, audit_event, page, parse, route, trust};
use crate::api::PageQuery;
use crate::api::{
    Attachment, AttachmentInput, AttachmentUpdate, AuditEvent, Integration, List, ProblemCode,
};
use crate::model::{IntegrationId, Phase, StackId};

pub fn routes() -> Vec<Route> {
    vec![
        route(
            "/v1/integrations/{id}/attachments",
            Method::GET,
            get(of_integration),
        ),
        route(
            "/v1/integrations/{id}/attachments",
            Method::POST,
            post(create),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::GET,
            get(read),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::PUT,
            put(update),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::DELETE,
            delete(remove),
        ),
        route("/v1/stacks/{id}/attachments", Method::GET, get(of_stack)),
    ]
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
            external_ids: trust::external_ids(state, i, &r.stack_id, &r.phases()),
            integration_id: r.integration_id,
            stack_id: r.stack_id,
            read: r.read,
            write: r.write,
            created_at: r.created_at,
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}

async fn one(state: &AppState, record: AttachmentRecord) -> ApiResult<Attachment> {
    Ok(present(state, vec![record]).await?.remove(0))
}

#[utoipa::path(
    operation_id = "attachments_create",
    post, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id.")), request_body = AttachmentInput,
    responses(
        (status = 201, description = "Attached: the role was verified for the stack's phases first (unless the broker skips verification).", body = Attachment),
        (status = 200, description = "The very same attachment already existed (a retried attach adopts it).", body = Attachment), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<AttachmentInput>,
) -> ApiResult<(StatusCode, axum::Json<Attachment>)> {
    let target = format!("attachment/{id}/{}", input.stack_id);
    let event = audit_event(Some(caller.key_id()), "attachment.create", &target);
    match attach_verified(state.clone(), &id, input, event.clone()).await {
        Ok((status, record)) => Ok((status, axum::Json(one(&state, record).await?))),
        Err(e) if verification_refused(&e) => Err(e),
        Err(e) => Err(state.refused(event, e).await),
    }
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
/// until the verification passes.
async fn attach_verified(
    state: Arc<AppState>,
    id: &str,
    input: AttachmentInput,
    audit: AuditEvent,
) -> ApiResult<(StatusCode, AttachmentRecord)> {
    let integration_id: IntegrationId = id
        .parse()
        .map_err(|_| ApiError::not_found("integration", id))?;
    let (read, write) = (input.read, input.write);
    if let Some(existing) = state
        .store
        .check_attachable(id, &input.stack_id, read, write)
        .await?
    {
        return Ok((StatusCode::OK, existing));
    }
    let stack: StackId = parse("stack_id", &input.stack_id)?;
    let integration = state.store.integration(id).await?;
    needs_policy_within_limit(&state, &integration, &stack, phases(read, write)).await?;
    if !state.settings.verify_on_attach || integration.generate_credentials_in_worker {
        let record = state
            .store
            .attach(&integration_id, &stack, read, write, None, &audit)
            .await?;
        return Ok((StatusCode::CREATED, record));
    }
    let targets = vec![(stack.clone(), phases(read, write))];
    let pending = verification::pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    verification::detached(state, pending, async move {
        let report = verification::verify(&task_state, &integration, &targets).await;
        if !report.ok {
            return Err(refuse_with_report(&task_state, id_of(&integration), report, audit).await);
        }
        let record = task_state
            .store
            .attach(&integration_id, &stack, read, write, Some(&report), &audit)
            .await?;
        Ok((StatusCode::CREATED, record))
    })
    .await
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
    let mut stacks = verification::attached(state, integration.id.as_str()).await?;
    stacks.retain(|(s, _)| s != stack);
    stacks.push((stack.clone(), phases));
    trust::trust_policy_for(state, integration, &stacks).map(|_| ())
}

fn id_of(integration: &Integration) -> String {
    integration.id.to_string()
}

fn phases(read: bool, write: bool) -> Vec<Phase> {
    Phase::ALL
        .into_iter()
        .filter(|p| if *p == Phase::Read { read } else { write })
        .collect()
}

/// A change refused by its verification: the role-level verdict is still
/// news (an unsafe role stops vending for every stack), so it is recorded
/// with the refusal's audit event.
async fn refuse_with_report(
    state: &AppState,
    integration: String,
    report: crate::api::VerifyReport,
    audit: AuditEvent,
) -> ApiError {
    let refusal = AuditEvent {
        outcome: ProblemCode::VerificationFailed.to_string(),
        detail: report.error.clone(),
        ..audit
    };
    let role_ok = verification::role_ok(&report);
    match state
        .store
        .record_verification(&integration, &report, role_ok, &[], &refusal)
        .await
    {
        Ok(_) => ApiError::verification_failed(report),
        Err(e) => e,
    }
}

#[utoipa::path(
    operation_id = "attachments_of_integration",
    get, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), PageQuery),
    responses((status = 200, description = "The integration's attachments, by stack, a page at a time.", body = List<Attachment>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Invalid),
)]
pub(crate) async fn of_integration(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let records = state.store.attachments_of_integration(&id, &page).await?;
    let list = page::list(records, &page, |r| vec![r.stack_id.to_string()]);
    Ok(axum::Json(List {
        items: present(&state, list.items).await?,
        next_cursor: list.next_cursor,
    }))
}

#[utoipa::path(
    operation_id = "attachments_of_stack",
    get, path = "/v1/stacks/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The stack's id."), PageQuery),
    responses((status = 200, description = "The stack's attachments, by integration, a page at a time.", body = List<Attachment>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Invalid),
)]
pub(crate) async fn of_stack(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let records = state.store.attachments_of_stack(&id, &page).await?;
    let list = page::list(records, &page, |r| vec![r.integration_id.to_string()]);
    Ok(axum::Json(List {
        items: present(&state, list.items).await?,
        next_cursor: list.next_cursor,
    }))
}

#[utoipa::path(
    operation_id = "attachments_read",
    get, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The attachment.", body = Attachment), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Attachment>> {
    let record = state.store.attachment(&id, &stack_id).await?;
    Ok(axum::Json(one(&state, record).await?))
}

#[utoipa::path(
    operation_id = "attachments_update",
    put, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")), request_body = AttachmentUpdate,
    responses((status = 200, description = "Updated.", body = Attachment), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn update(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path((id, stack_id)): Path<(String, String)>,
    Json(input): Json<AttachmentUpdate>,
) -> ApiResult<axum::Json<Attachment>> {
    let target = format!("attachment/{id}/{stack_id}");
    let event = audit_event(Some(caller.key_id()), "attachment.update", &target);
    match update_verified(state.clone(), &id, &stack_id, input, event.clone()).await {
        Ok(record) => Ok(axum::Json(one(&state, record).await?)),
        Err(e) if verification_refused(&e) => Err(e),
        Err(e) => Err(state.refused(event, e).await),
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
) -> ApiResult<AttachmentRecord> {
    let before = state.store.attachment(id, stack_id).await?;
    let added: Vec<Phase> = phases(input.read, input.write)
        .into_iter()
        .filter(|p| !before.phases().contains(p))
        .collect();
    let integration = state.store.integration(id).await?;
    if !added.is_empty() {
        let all = phases(input.read, input.write);
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
    let pending = verification::pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    let (id, stack_id) = (id.to_string(), stack_id.to_string());
    verification::detached(state, pending, async move {
        let report = verification::verify(&task_state, &integration, &targets).await;
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

#[utoipa::path(
    operation_id = "attachments_remove",
    delete, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 204, description = "Detached."), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
pub(crate) async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let state: &AppState = &state;
    state
        .audited(
            &caller,
            "attachment.delete",
            &format!("attachment/{id}/{stack_id}"),
            |audit| async move {
                state.store.detach(&id, &stack_id, &audit).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
