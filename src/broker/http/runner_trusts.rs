//! `/v1/runner-trusts`: which OIDC ID tokens may get credentials for which
//! stack and phases.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{IdempotencyKey, Json, Path, Query};
use super::super::service::idempotency;
use super::super::service::runner_trusts;
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{List, RunnerTrust, RunnerTrustInput, SpacedPageQuery};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "runner_trusts_create",
    post, path = "/v1/runner-trusts", tag = "runner-trusts", params(r::Idempotency), request_body = RunnerTrustInput,
    responses((status = 201, description = "Created.", body = RunnerTrust), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    key: IdempotencyKey,
    Json(input): Json<RunnerTrustInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<RunnerTrust>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = runner_trusts::create(&state, &caller, input, once.as_ref()).await?;
    Ok(created(StatusCode::CREATED, made))
}

#[utoipa::path(
    operation_id = "runner_trusts_list",
    get, path = "/v1/runner-trusts", tag = "runner-trusts", params(SpacedPageQuery),
    responses((status = 200, description = "Runner trusts, oldest first, a page at a time.", body = List<RunnerTrust>), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Query(q): Query<SpacedPageQuery>,
) -> ApiResult<axum::Json<List<RunnerTrust>>> {
    Ok(axum::Json(runner_trusts::list(&state, &caller, &q).await?))
}

#[utoipa::path(
    operation_id = "runner_trusts_read",
    get, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")),
    responses((status = 200, description = "The runner trust.", body = RunnerTrust), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunnerTrust>> {
    Ok(axum::Json(runner_trusts::read(&state, &caller, &id).await?))
}

#[utoipa::path(
    operation_id = "runner_trusts_replace",
    put, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")), request_body = RunnerTrustInput,
    responses((status = 200, description = "Replaced.", body = RunnerTrust), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Invalid),
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Json(input): Json<RunnerTrustInput>,
) -> ApiResult<axum::Json<RunnerTrust>> {
    Ok(axum::Json(
        runner_trusts::replace(&state, &caller, &id, input).await?,
    ))
}

#[utoipa::path(
    operation_id = "runner_trusts_remove",
    delete, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")),
    responses((status = 204, description = "Deleted: its tokens get nothing from now on."), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    runner_trusts::remove(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
