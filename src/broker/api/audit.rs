//! `GET /v1/audit`: the audit trail, newest first, filterable.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::openapi;
use super::{AppState, Query};
use crate::api::AuditFilter;
use crate::api::{AuditEvent, List};

/// Larger pages would hold a connection and build a large answer for one
/// request.
const MAX_LIMIT: i64 = 1000;

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
    if let Some(limit) = filter.limit.filter(|l| !(1..=MAX_LIMIT).contains(l)) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit is {limit}: ask for 1 to {MAX_LIMIT} events (default 100)"),
        ));
    }
    Ok(axum::Json(List {
        items: state.store.audit(&filter).await?,
    }))
}
