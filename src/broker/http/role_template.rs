//! `GET /v1/integrations/{id}/role-template`: the integration's role as a
//! deployable definition (CloudFormation, Terraform or JSON), with the
//! trust policy for its attachments in its scope.

use std::sync::Arc;

use axum::extract::{RawQuery, State};

use super::super::auth::Member;
use super::super::error::{ApiError, ApiResult};
use super::super::extract::Path;
use super::super::service::trust_policies;
use super::super::state::AppState;
use super::responses as r;
use crate::wire::{RoleTemplateDocument, RoleTemplateQuery};

/// Reads the query by hand: repeated keys are how lists travel.
fn query(raw: Option<&str>) -> ApiResult<RoleTemplateQuery> {
    let mut q = RoleTemplateQuery::default();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.into_owned();
        match &*key {
            "format" => q.format = Some(value),
            "managed_policy_arn" => q.managed_policy_arn.push(value),
            "stack_id" => q.stack_id.push(value),
            "state_bucket" => q.state_bucket = Some(value),
            "lock_table" => q.lock_table = Some(value),
            "template_url" => q.template_url = Some(value),
            other => {
                return Err(ApiError::Malformed(format!(
                    "unknown query parameter {other:?}: use format, managed_policy_arn, stack_id, \
                     state_bucket, lock_table and template_url"
                )));
            }
        }
    }
    Ok(q)
}

#[utoipa::path(
    operation_id = "role_template_read",
    get, path = "/v1/integrations/{id}/role-template", tag = "trust", params(("id" = String, Path, description = "The integration's id."), RoleTemplateQuery),
    responses((status = 200, description = "The role, ready to deploy.", body = RoleTemplateDocument), r::Malformed, r::Unauthenticated, r::Forbidden, r::NotFound, r::Conflict, r::Invalid),
)]
pub async fn role_template(
    State(state): State<Arc<AppState>>,
    Member(caller): Member,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<RoleTemplateDocument>> {
    let q = query(raw.as_deref())?;
    Ok(axum::Json(
        trust_policies::role_template(&state, &caller, &id, q).await?,
    ))
}
