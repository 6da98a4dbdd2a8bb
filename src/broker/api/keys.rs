//! `/v1/keys`: create (the secret is shown once), list, revoke.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};

use super::super::auth::{Admin, mint, new_key_id};
use super::super::error::{ApiError, ApiResult};
use super::openapi;
use super::{AppState, Json, Path, Query, Route, page, parse, route};
use crate::api::{ApiKey, ApiKeyInput, CreatedApiKey, KeyRole, List, PageQuery};
use crate::model::StackId;
use crate::model::timestamp::{self, now};

/// Ten years: a key meant to outlive that should have no expiry at all.
const MAX_LIFETIME_SECONDS: i64 = 315_360_000;

pub fn routes() -> Vec<Route> {
    vec![
        route("/v1/keys", Method::GET, get(list)),
        route("/v1/keys", Method::POST, post(create)),
        route("/v1/keys/{id}", Method::DELETE, delete(revoke)),
    ]
}

#[utoipa::path(
    operation_id = "keys_create",
    post, path = "/v1/keys", tag = "keys", request_body = ApiKeyInput,
    responses((status = 201, description = "Created; the token is shown this once.", body = CreatedApiKey), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Json(input): Json<ApiKeyInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKey>)> {
    let id = new_key_id();
    let state: &AppState = &state;
    state
        .audited(&caller, "key.create", &format!("key/{id}"), |audit| async move {
            let (stack_id, phases) = match input.role {
                KeyRole::Admin => {
                    if input.stack_id.is_some() || input.phases.is_some() {
                        return Err(ApiError::invalid(
                            "stack_id",
                            "admin keys act for every stack: leave out stack_id and phases, or use role \"runner\"",
                        ));
                    }
                    (None, Vec::new())
                }
                KeyRole::Runner => {
                    let stack_id: StackId = parse("stack_id", input.stack_id.as_deref().ok_or_else(|| {
                        ApiError::invalid("stack_id", "runner keys act for one stack: set stack_id")
                    })?)?;
                    state.store.stack(stack_id.as_str()).await.map_err(|e| match e {
                        ApiError::NotFound { .. } => {
                            ApiError::invalid("stack_id", format!("stack {stack_id:?} does not exist"))
                        }
                        other => other,
                    })?;
                    // No default: a key that may write must be asked for.
                    let phases = input.phases.clone().unwrap_or_default();
                    if phases.is_empty() {
                        return Err(ApiError::invalid(
                            "phases",
                            "choose the phases this runner key may get credentials for: [\"read\"] for plan jobs, \
                             [\"write\"] for apply jobs, or both for a job that does both",
                        ));
                    }
                    (Some(stack_id), phases)
                }
            };
            let expires_at = match input.expires_in_seconds {
                None => None,
                Some(s) if (1..=MAX_LIFETIME_SECONDS).contains(&s) => Some(timestamp::format(time::OffsetDateTime::now_utc() + time::Duration::seconds(s))),
                Some(s) => {
                    return Err(ApiError::invalid(
                        "expires_in_seconds",
                        format!("{s} is not a lifetime: use 1 to {MAX_LIFETIME_SECONDS} seconds (ten years), or leave it out for no expiry"),
                    ));
                }
            };
            let minted = mint(id.clone(), input.role, stack_id, phases, input.description.clone(), expires_at);
            state.store.insert_key(&minted.stored, &audit).await?;
            Ok((
                StatusCode::CREATED,
                axum::Json(CreatedApiKey {
                    key: minted.stored.key,
                    token: minted.token,
                }),
            ))
        })
        .await
}

#[utoipa::path(
    operation_id = "keys_list",
    get, path = "/v1/keys", tag = "keys", params(PageQuery),
    responses((status = 200, description = "Keys (never a secret), oldest first, a page at a time.", body = List<ApiKey>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<ApiKey>>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 2)?;
    let items = state.store.keys(&page).await?;
    Ok(axum::Json(page::list(items, &page, |k| {
        vec![k.created_at.clone(), k.id.clone()]
    })))
}

#[utoipa::path(
    operation_id = "keys_revoke",
    delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = String, Path, description = "The key's id.")),
    responses((status = 200, description = "Revoked.", body = ApiKey), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict),
)]
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    let state: &AppState = &state;
    state
        .audited(
            &caller,
            "key.revoke",
            &format!("key/{id}"),
            |audit| async move {
                Ok(axum::Json(
                    state.store.revoke_key(&id, &now(), &audit).await?,
                ))
            },
        )
        .await
}
