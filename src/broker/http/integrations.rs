//! `/v1/integrations`: AWS roles deputy assumes, and how.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;

use super::super::auth::Member;
use super::super::error::{ApiError, ApiResult};
use super::super::extract::{IdempotencyKey, Json, Path};
use super::super::service::idempotency;
use super::super::service::integrations;
use super::super::state::AppState;
use super::created;
use super::responses as r;
use crate::wire::{Integration, IntegrationFilter, IntegrationInput, List};
use axum::http::HeaderMap;

#[utoipa::path(
    operation_id = "integrations_create",
    post, path = "/v1/integrations", tag = "integrations", params(r::Idempotency), request_body = IntegrationInput,
    responses((status = 201, description = "Created.", body = Integration), r::Malformed, r::Unauthenticated, r::Forbidden, r::Conflict, r::Invalid),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    key: IdempotencyKey,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Integration>)> {
    let once = idempotency::request(&caller, &key, &input)?;
    let made = integrations::create(&state, &caller, input, once.as_ref()).await?;
    Ok(created(StatusCode::CREATED, made))
}

/// Reads `?space=S&label=k=v&label=...` by hand: repeated keys are how a
/// list of labels travels, and a value may hold `,`, `=` or `&` (encoded).
fn filter(query: Option<&str>) -> ApiResult<IntegrationFilter> {
    let mut filter = IntegrationFilter::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "space" => filter.space = Some(value.into_owned()),
            "label" => filter.label.push(value.into_owned()),
            "cursor" => filter.cursor = Some(value.into_owned()),
            "limit" => {
                filter.limit = Some(value.parse().map_err(|_| {
                    ApiError::invalid("limit", format!("limit is {value:?}: use a whole number"))
                })?);
            }
            other => {
                return Err(ApiError::Malformed(format!(
                    "unknown query parameter {other:?}: use space, label, limit and cursor"
                )));
            }
        }
    }
    Ok(filter)
}

#[utoipa::path(
    operation_id = "integrations_list",
    get, path = "/v1/integrations", tag = "integrations", params(IntegrationFilter),
    responses((status = 200, description = "Matching integrations, by name, a page at a time.", body = List<Integration>), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    RawQuery(query): RawQuery,
) -> ApiResult<axum::Json<List<Integration>>> {
    let filter = filter(query.as_deref())?;
    Ok(axum::Json(
        integrations::list(&state, &caller, &filter).await?,
    ))
}

#[utoipa::path(
    operation_id = "integrations_read",
    get, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 200, description = "The integration.", body = Integration), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(integrations::read(&state, &caller, &id).await?))
}

#[utoipa::path(
    operation_id = "integrations_by_name",
    get, path = "/v1/integrations/by-name/{name}", tag = "integrations", params(("name" = String, Path, description = "The integration's unique name.")),
    responses((status = 200, description = "The integration.", body = Integration), r::Unauthenticated, r::Forbidden, r::NotFound),
)]
pub async fn by_name(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(
        integrations::by_name(&state, &caller, &name).await?,
    ))
}

#[utoipa::path(
    operation_id = "integrations_replace",
    put, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")), request_body = IntegrationInput,
    responses((status = 200, description = "Replaced.", body = Integration), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(
        integrations::replace(&state, &caller, &id, input).await?,
    ))
}

#[utoipa::path(
    operation_id = "integrations_remove",
    delete, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 204, description = "Deleted."), r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict),
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    integrations::remove(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
