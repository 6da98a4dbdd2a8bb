//! `GET /v1/audit`: the audit trail, newest first, filterable.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::Query;
use super::super::service::audit;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::{AuditEvent, AuditFilter, List};

#[utoipa::path(
    operation_id = "audit_list",
    get, path = "/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, description = "Events, newest first.", body = List<AuditEvent>), r::Malformed, r::Unauthenticated, r::Forbidden, r::Invalid),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<axum::Json<List<AuditEvent>>> {
    Ok(axum::Json(audit::list(&state, &caller, &filter).await?))
}
