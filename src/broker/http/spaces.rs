//! `/v1/spaces`: create, list, read, replace and delete spaces.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{IdempotencyKey, Json, Path};
use super::super::service::{idempotency, spaces};
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{Space, SpaceInput};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "spaces_create",
    post, path = "/v1/spaces", tag = "spaces", params(r::Idempotency), request_body = SpaceInput,
    responses((status = 201, description = "Created.", body = Space), r::Malformed, r::Unauthenticated, r::Forbidden, r::Conflict, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    key: IdempotencyKey,
    Json(input): Json<SpaceInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Space>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = spaces::create(&state, &caller, input, once.as_ref()).await?;
    Ok(created(StatusCode::CREATED, made))
}

#[utoipa::path(
    operation_id = "spaces_list",
    get, path = "/v1/spaces", tag = "spaces",
    responses((status = 200, description = "The spaces of the key's subtree (its space and below), by id.", body = Vec<Space>), r::Unauthenticated, r::Forbidden),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
) -> ApiResult<axum::Json<Vec<Space>>> {
    Ok(axum::Json(spaces::list(&state, &caller).await?))
}

#[utoipa::path(
    operation_id = "spaces_read",
    get, path = "/v1/spaces/{id}", tag = "spaces", params(("id" = String, Path, description = "The space's id.")),
    responses((status = 200, description = "The space.", body = Space), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Space>> {
    Ok(axum::Json(spaces::read(&state, &caller, &id).await?))
}

#[utoipa::path(
    operation_id = "spaces_replace",
    put, path = "/v1/spaces/{id}", tag = "spaces", params(("id" = String, Path, description = "The space's id.")), request_body = SpaceInput,
    responses((status = 200, description = "Replaced.", body = Space), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Json(input): Json<SpaceInput>,
) -> ApiResult<axum::Json<Space>> {
    Ok(axum::Json(
        spaces::replace(&state, &caller, &id, input).await?,
    ))
}

#[utoipa::path(
    operation_id = "spaces_remove",
    delete, path = "/v1/spaces/{id}", tag = "spaces", params(("id" = String, Path, description = "The space's id.")),
    responses((status = 204, description = "Deleted."), r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict),
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    spaces::remove(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
