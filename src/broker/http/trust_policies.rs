//! `GET /v1/integrations/{id}/external-ids` and `.../trust-policy`: what a
//! customer puts in a role's trust policy.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Member;
use super::super::error::ApiResult;
use super::super::extract::{Path, Query};
use super::super::service::trust_policies;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::{ExternalIdQuery, ExternalIds, TrustPolicy};

#[utoipa::path(
    operation_id = "trust_external_ids_route",
    get, path = "/v1/integrations/{id}/external-ids", tag = "trust", params(("id" = String, Path, description = "The integration's id."), ExternalIdQuery),
    responses((status = 200, description = "The stack's External IDs and statement.", body = ExternalIds), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn external_ids(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    Query(q): Query<ExternalIdQuery>,
) -> ApiResult<axum::Json<ExternalIds>> {
    Ok(axum::Json(
        trust_policies::for_stack(&state, &caller, &id, &q).await?,
    ))
}

#[utoipa::path(
    operation_id = "trust_trust_policy",
    get, path = "/v1/integrations/{id}/trust-policy", tag = "trust", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 200, description = "The trust policy over every attachment.", body = TrustPolicy), r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict),
)]
pub async fn trust_policy(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TrustPolicy>> {
    Ok(axum::Json(
        trust_policies::of_integration(&state, &caller, &id).await?,
    ))
}
