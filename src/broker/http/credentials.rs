//! `POST /v1/credentials`: short-lived AWS credentials for a run (see
//! `service::credentials`).

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Runner;
use super::super::error::ApiResult;
use super::super::extract::Json;
use super::super::service::credentials;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::{CredentialsRequest, IssuedCredentials};

#[utoipa::path(
    operation_id = "credentials_issue",
    post, path = "/v1/credentials", tag = "credentials", request_body = CredentialsRequest,
    responses((status = 200, description = "Credentials (broker mode) or what a worker needs (worker mode).", body = IssuedCredentials), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid, r::RateLimited, r::IssuerUnavailable),
)]
pub async fn issue(
    State(state): State<Arc<AppState>>,
    runner: Runner,
    Json(req): Json<CredentialsRequest>,
) -> ApiResult<axum::Json<IssuedCredentials>> {
    Ok(axum::Json(credentials::issue(&state, &runner, &req).await?))
}
