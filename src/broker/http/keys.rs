//! `/v1/keys`: create (the secret is shown once), list, revoke.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{IdempotencyKey, Json, Path, Query};
use super::super::service::idempotency;
use super::super::service::keys;
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{ApiKey, ApiKeyInput, CreatedApiKey, List, SpacedPageQuery};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "keys_create",
    post, path = "/v1/keys", tag = "keys", params(r::Idempotency), request_body = ApiKeyInput,
    responses((status = 201, description = "Created; the token is shown this once.", body = CreatedApiKey), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    key: IdempotencyKey,
    Json(input): Json<ApiKeyInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<CreatedApiKey>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = keys::create(&state, &caller, input, once.as_ref()).await?;
    Ok(created(StatusCode::CREATED, made))
}

#[utoipa::path(
    operation_id = "keys_list",
    get, path = "/v1/keys", tag = "keys", params(SpacedPageQuery),
    responses((status = 200, description = "Keys (never a secret), oldest first, a page at a time.", body = List<ApiKey>), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Query(q): Query<SpacedPageQuery>,
) -> ApiResult<axum::Json<List<ApiKey>>> {
    Ok(axum::Json(keys::list(&state, &caller, &q).await?))
}

#[utoipa::path(
    operation_id = "keys_revoke",
    delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = String, Path, description = "The key's id.")),
    responses((status = 200, description = "Revoked.", body = ApiKey), r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict),
)]
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    Ok(axum::Json(keys::revoke(&state, &caller, &id).await?))
}
