//! `GET /v1/audit`: the audit trail, newest first, filterable.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::super::error::ApiResult;
use super::{AppState, Query};
use crate::api::AuditFilter;
use crate::api::{AuditEvent, List};

pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<axum::Json<List<AuditEvent>>> {
    Ok(axum::Json(List {
        items: state.store.audit(&filter).await?,
    }))
}
