//! `POST /v1/integrations/{id}/verify`: runs every probe against the
//! integration's role under its current configuration and answers the
//! report (see `service::verification`).
//!
//! `POST /v1/integrations/{id}/worker-verification`: records the report of
//! the same probes run by a worker with its own identity (`deputy verify
//! --as-worker`), for integrations whose credentials workers generate.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{Json, Path, Query};
use super::super::service::verification;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::{VerifyQuery, VerifyReport};

#[utoipa::path(
    operation_id = "verify_verify",
    post, path = "/v1/integrations/{id}/verify", tag = "verification", params(("id" = String, Path, description = "The integration's id."), VerifyQuery),
    responses((status = 200, description = "The role is safe: the report.", body = VerifyReport), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Query(q): Query<VerifyQuery>,
) -> ApiResult<axum::Json<VerifyReport>> {
    Ok(axum::Json(
        verification::run(&state, &caller, &id, &q).await?,
    ))
}

#[utoipa::path(
    operation_id = "verify_worker_verification",
    post, path = "/v1/integrations/{id}/worker-verification", tag = "verification",
    params(("id" = String, Path, description = "The integration's id.")),
    request_body = VerifyReport,
    responses(
        (status = 200, description = "Recorded: the role is safe for the worker.", body = VerifyReport),
        r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict,
        r::Invalid,
    ),
)]
pub async fn worker_verification(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Json(report): Json<VerifyReport>,
) -> ApiResult<axum::Json<VerifyReport>> {
    Ok(axum::Json(
        verification::record_from_worker(&state, &caller, &id, report).await?,
    ))
}
