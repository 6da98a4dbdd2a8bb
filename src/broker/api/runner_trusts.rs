//! `/v1/runner-trusts`: which OIDC ID tokens may get credentials for which
//! stack and phases. Create, list, read, replace and delete; every change
//! audited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::openapi;
use super::{AppState, Json, Path, Query, Route, page, parse, route};
use crate::api::{List, PageQuery, RunnerTrust, RunnerTrustInput};
use crate::model::StackId;
use crate::model::runner_trust::{check_audience, check_claims, check_issuer, check_subject};
use crate::model::timestamp::now;

pub fn routes() -> Vec<Route> {
    vec![
        route("/v1/runner-trusts", Method::GET, get(list)),
        route("/v1/runner-trusts", Method::POST, post(create)),
        route("/v1/runner-trusts/{id}", Method::GET, get(read)),
        route("/v1/runner-trusts/{id}", Method::PUT, put(replace)),
        route("/v1/runner-trusts/{id}", Method::DELETE, delete(remove)),
    ]
}

/// Validates input into a trust record through `model::runner_trust`.
async fn validate(state: &AppState, id: String, input: RunnerTrustInput) -> ApiResult<RunnerTrust> {
    let stack_id: StackId = parse("stack_id", &input.stack_id)?;
    state
        .store
        .stack(stack_id.as_str())
        .await
        .map_err(|e| match e {
            ApiError::NotFound { .. } => {
                ApiError::invalid("stack_id", format!("stack {stack_id:?} does not exist"))
            }
            other => other,
        })?;
    let field = |name: &'static str| move |e: crate::model::Invalid| ApiError::invalid(name, e.0);
    check_issuer(&input.issuer).map_err(field("issuer"))?;
    check_audience(&input.audience).map_err(field("audience"))?;
    check_subject(&input.subject).map_err(field("subject"))?;
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
    })
}

#[utoipa::path(
    operation_id = "runner_trusts_create",
    post, path = "/v1/runner-trusts", tag = "runner-trusts", request_body = RunnerTrustInput,
    responses((status = 201, description = "Created.", body = RunnerTrust), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Json(input): Json<RunnerTrustInput>,
) -> ApiResult<(StatusCode, axum::Json<RunnerTrust>)> {
    let id = ulid::Ulid::new().to_string().to_lowercase();
    let target = format!("runner-trust/{id}");
    let state: &AppState = &state;
    state
        .audited(
            &caller,
            "runner_trust.create",
            &target,
            |audit| async move {
                let trust = validate(state, id, input).await?;
                let audit = crate::api::AuditEvent {
                    stack_id: Some(trust.stack_id.to_string()),
                    ..audit
                };
                state.store.insert_runner_trust(&trust, &audit).await?;
                Ok((StatusCode::CREATED, axum::Json(trust)))
            },
        )
        .await
}

#[utoipa::path(
    operation_id = "runner_trusts_list",
    get, path = "/v1/runner-trusts", tag = "runner-trusts", params(PageQuery),
    responses((status = 200, description = "Runner trusts, oldest first, a page at a time.", body = List<RunnerTrust>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<RunnerTrust>>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 2)?;
    let items = state.store.runner_trusts(&page).await?;
    Ok(axum::Json(page::list(items, &page, |t| {
        vec![t.created_at.clone(), t.id.clone()]
    })))
}

#[utoipa::path(
    operation_id = "runner_trusts_read",
    get, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")),
    responses((status = 200, description = "The runner trust.", body = RunnerTrust), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunnerTrust>> {
    Ok(axum::Json(state.store.runner_trust(&id).await?))
}

#[utoipa::path(
    operation_id = "runner_trusts_replace",
    put, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")), request_body = RunnerTrustInput,
    responses((status = 200, description = "Replaced.", body = RunnerTrust), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Invalid),
)]
async fn replace(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<RunnerTrustInput>,
) -> ApiResult<axum::Json<RunnerTrust>> {
    let state: &AppState = &state;
    let target = format!("runner-trust/{id}");
    state
        .audited(
            &caller,
            "runner_trust.update",
            &target,
            |audit| async move {
                let existing = state.store.runner_trust(&id).await?;
                let trust = RunnerTrust {
                    created_at: existing.created_at,
                    ..validate(state, id, input).await?
                };
                let audit = crate::api::AuditEvent {
                    stack_id: Some(trust.stack_id.to_string()),
                    ..audit
                };
                Ok(axum::Json(
                    state.store.replace_runner_trust(&trust, &audit).await?,
                ))
            },
        )
        .await
}

#[utoipa::path(
    operation_id = "runner_trusts_remove",
    delete, path = "/v1/runner-trusts/{id}", tag = "runner-trusts", params(("id" = String, Path, description = "The runner trust's id.")),
    responses((status = 204, description = "Deleted: its tokens get nothing from now on."), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
pub(crate) async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let state: &AppState = &state;
    let target = format!("runner-trust/{id}");
    state
        .audited(
            &caller,
            "runner_trust.delete",
            &target,
            |audit| async move {
                state.store.delete_runner_trust(&id, &audit).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
