//! `/v1/integrations/{id}/attachments` and `/v1/stacks/{id}/attachments`:
//! which stacks use an integration, for which phases.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{IdempotencyKey, Json, Path, Query};
use super::super::service::attachments;
use super::super::service::idempotency;
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{Attachment, AttachmentInput, AttachmentUpdate, List, PageQuery};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "attachments_create",
    post, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), r::Idempotency), request_body = AttachmentInput,
    responses(
        (status = 201, description = "Attached: the role was verified for the stack's phases first (unless the broker skips verification).", body = Attachment),
        (status = 200, description = "The very same attachment already existed (a retried attach adopts it).", body = Attachment), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Json(input): Json<AttachmentInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Attachment>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = attachments::create(&state, &caller, &id, input, once.as_ref()).await?;
    let status = if made.value.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(created(status, made.map(|a| a.attachment)))
}

#[utoipa::path(
    operation_id = "attachments_of_integration",
    get, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), PageQuery),
    responses((status = 200, description = "The integration's attachments, by stack, a page at a time.", body = List<Attachment>), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Invalid),
)]
pub async fn of_integration(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    Ok(axum::Json(
        attachments::of_integration(&state, &caller, &id, &q).await?,
    ))
}

#[utoipa::path(
    operation_id = "attachments_of_stack",
    get, path = "/v1/stacks/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The stack's id."), PageQuery),
    responses((status = 200, description = "The stack's attachments, by integration, a page at a time.", body = List<Attachment>), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Invalid),
)]
pub async fn of_stack(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    Ok(axum::Json(
        attachments::of_stack(&state, &caller, &id, &q).await?,
    ))
}

#[utoipa::path(
    operation_id = "attachments_read",
    get, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The attachment.", body = Attachment), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Attachment>> {
    Ok(axum::Json(
        attachments::read(&state, &caller, &id, &stack_id).await?,
    ))
}

#[utoipa::path(
    operation_id = "attachments_update",
    put, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")), request_body = AttachmentUpdate,
    responses((status = 200, description = "Updated.", body = Attachment), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn update(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path((id, stack_id)): Path<(String, String)>,
    Json(input): Json<AttachmentUpdate>,
) -> ApiResult<axum::Json<Attachment>> {
    Ok(axum::Json(
        attachments::update(&state, &caller, &id, &stack_id, input).await?,
    ))
}

#[utoipa::path(
    operation_id = "attachments_remove",
    delete, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 204, description = "Detached."), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    attachments::remove(&state, &caller, &id, &stack_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
