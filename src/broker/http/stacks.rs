//! `/v1/stacks`: create, list, read, replace and delete stacks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{IdempotencyKey, Json, Path, Query};
use super::super::service::idempotency;
use super::super::service::stacks;
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{List, SpacedPageQuery, Stack, StackInput};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "stacks_create",
    post, path = "/v1/stacks", tag = "stacks", params(r::Idempotency), request_body = StackInput,
    responses((status = 201, description = "Created.", body = Stack), r::Malformed, r::Unauthenticated, r::Forbidden, r::Conflict, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    key: IdempotencyKey,
    Json(input): Json<StackInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Stack>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = stacks::create(&state, &caller, input, once.as_ref()).await?;
    Ok(created(StatusCode::CREATED, made))
}

#[utoipa::path(
    operation_id = "stacks_list",
    get, path = "/v1/stacks", tag = "stacks", params(SpacedPageQuery),
    responses((status = 200, description = "Stacks, by id, a page at a time.", body = List<Stack>), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Query(q): Query<SpacedPageQuery>,
) -> ApiResult<axum::Json<List<Stack>>> {
    Ok(axum::Json(stacks::list(&state, &caller, &q).await?))
}

#[utoipa::path(
    operation_id = "stacks_read",
    get, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The stack.", body = Stack), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Stack>> {
    Ok(axum::Json(stacks::read(&state, &caller, &id).await?))
}

#[utoipa::path(
    operation_id = "stacks_replace",
    put, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")), request_body = StackInput,
    responses((status = 200, description = "Replaced.", body = Stack), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Invalid),
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Json(input): Json<StackInput>,
) -> ApiResult<axum::Json<Stack>> {
    Ok(axum::Json(
        stacks::replace(&state, &caller, &id, input).await?,
    ))
}

#[utoipa::path(
    operation_id = "stacks_remove",
    delete, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")),
    responses((status = 204, description = "Deleted."), r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict),
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    stacks::remove(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
