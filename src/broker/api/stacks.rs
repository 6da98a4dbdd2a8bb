//! `/v1/stacks`: create, list, read, replace and delete stacks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::openapi;
use super::{AppState, Json, Path, Query, Route, page, parse, route};
use crate::api::{List, PageQuery, Stack, StackInput};
use crate::model::names::check_labels;
use crate::model::{Name, Space, StackId};

pub fn routes() -> Vec<Route> {
    vec![
        route("/v1/stacks", Method::GET, get(list)),
        route("/v1/stacks", Method::POST, post(create)),
        route("/v1/stacks/{id}", Method::GET, get(read)),
        route("/v1/stacks/{id}", Method::PUT, put(replace)),
        route("/v1/stacks/{id}", Method::DELETE, delete(remove)),
    ]
}

/// Validates input into a full stack record through `model`, the rules the
/// provider applies at plan. `id` comes from the body on create and from
/// the path on replace.
fn validate(id: &str, input: StackInput) -> ApiResult<Stack> {
    let id: StackId = parse("id", id)?;
    let name: Name = match &input.name {
        Some(n) => parse("name", n)?,
        None => parse("name", id.as_str())?,
    };
    let space: Space = match &input.space {
        Some(s) => parse("space", s)?,
        None => Space::default(),
    };
    check_labels(input.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid("labels", e.0))?;
    Ok(Stack {
        id,
        name: name.to_string(),
        space: space.to_string(),
        labels: input.labels,
        description: input.description,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

#[utoipa::path(
    operation_id = "stacks_create",
    post, path = "/v1/stacks", tag = "stacks", request_body = StackInput,
    responses((status = 201, description = "Created.", body = Stack), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Json(input): Json<StackInput>,
) -> ApiResult<(StatusCode, axum::Json<Stack>)> {
    let id = input.id.clone();
    let target = format!("stack/{id}");
    let state: &AppState = &state;
    state
        .audited(&caller, "stack.create", &target, |audit| async move {
            let stack = validate(&id, input)?;
            Ok((
                StatusCode::CREATED,
                axum::Json(state.store.create_stack(&stack, &audit).await?),
            ))
        })
        .await
}

#[utoipa::path(
    operation_id = "stacks_list",
    get, path = "/v1/stacks", tag = "stacks", params(PageQuery),
    responses((status = 200, description = "Stacks, by id, a page at a time.", body = List<Stack>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<List<Stack>>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let items = state.store.stacks(&page).await?;
    Ok(axum::Json(page::list(items, &page, |s| {
        vec![s.id.to_string()]
    })))
}

#[utoipa::path(
    operation_id = "stacks_read",
    get, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The stack.", body = Stack), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
pub(crate) async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Stack>> {
    Ok(axum::Json(state.store.stack(&id).await?))
}

#[utoipa::path(
    operation_id = "stacks_replace",
    put, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")), request_body = StackInput,
    responses((status = 200, description = "Replaced.", body = Stack), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Invalid),
)]
pub(crate) async fn replace(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<StackInput>,
) -> ApiResult<axum::Json<Stack>> {
    let state: &AppState = &state;
    state
        .audited(&caller, "stack.update", &format!("stack/{id}"), |audit| async move {
            if input.id != id {
                return Err(ApiError::invalid(
                    "id",
                    "a stack's id cannot change (it is part of its External IDs): create a new stack instead",
                ));
            }
            let stack = validate(&id, input)?;
            Ok(axum::Json(state.store.replace_stack(&stack, &audit).await?))
        })
        .await
}

#[utoipa::path(
    operation_id = "stacks_remove",
    delete, path = "/v1/stacks/{id}", tag = "stacks", params(("id" = String, Path, description = "The stack's id.")),
    responses((status = 204, description = "Deleted."), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict),
)]
pub(crate) async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let state: &AppState = &state;
    state
        .audited(
            &caller,
            "stack.delete",
            &format!("stack/{id}"),
            |audit| async move {
                state.store.delete_stack(&id, &audit).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
