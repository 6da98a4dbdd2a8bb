//! `GET /v1/audit`: the audit trail, newest first, filterable.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::super::error::ApiResult;
use super::openapi;
use super::{AppState, Query, page};
use crate::api::AuditFilter;
use crate::api::{AuditEvent, List};

#[utoipa::path(
    operation_id = "audit_list",
    get, path = "/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, description = "Events, newest first.", body = List<AuditEvent>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<axum::Json<List<AuditEvent>>> {
    let page = page::page(filter.limit, filter.cursor.as_deref(), 2)?;
    let items = state.store.audit(&filter, &page).await?;
    Ok(axum::Json(page::list(items, &page, |e| {
        vec![e.at.clone(), e.id.clone()]
    })))
}
