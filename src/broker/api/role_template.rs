//! `GET /v1/integrations/{id}/role-template`: the integration's role as a
//! deployable definition (CloudFormation, Terraform or JSON), with the
//! trust policy for its attachments in its scope.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::routing::get;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::verification;
use super::openapi;
use super::{AppState, Path, Route, parse, route, trust};
use crate::api::{RoleTemplateDocument, RoleTemplateQuery};
use crate::model::Phase;
use crate::model::integration::TrustScope;
use crate::model::role_template::{
    Format, RoleTemplate, StateBackend, check_bucket_name, check_managed_policy_arn,
    check_table_name, quick_create_url,
};
use crate::model::trust_policy::{Accepted, document_json, integration_patterns};

pub fn routes() -> Vec<Route> {
    vec![route(
        "/v1/integrations/{id}/role-template",
        Method::GET,
        get(role_template),
    )]
}

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
    responses((status = 200, description = "The role, ready to deploy.", body = RoleTemplateDocument), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn role_template(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<RoleTemplateDocument>> {
    let q = query(raw.as_deref())?;
    let format: Format = match &q.format {
        Some(f) => parse("format", f)?,
        None => Format::CloudFormation,
    };
    let integration = state.store.integration(&id).await?;
    let mut stacks = verification::attached(&state, &id).await?;
    for extra in &q.stack_id {
        let stack = trust::existing_stack(&state, extra).await?;
        if !stacks.iter().any(|(s, _)| *s == stack) {
            stacks.push((stack, Phase::ALL.to_vec()));
        }
    }
    let policy = trust::trust_policy_for(&state, &integration, &stacks)?;
    // Roles come before attachments (which are verified against them). An
    // integration-scoped role needs no stacks: it trusts both phases' patterns.
    let document = match (integration.trust_scope, policy.document.is_empty()) {
        (TrustScope::Integration, true) if integration.external_id.is_none() => document_json(
            &state.principal,
            &Accepted::Like(integration_patterns(
                &state.account,
                &integration.id,
                &Phase::ALL,
            )),
            integration.trust_actions(),
        ),
        (_, true) => {
            return Err(ApiError::invalid(
                "stack_id",
                format!(
                    "integration {id} has no attachments, so its stack-scoped role would trust nobody: \
                     name the stacks the role is for with stack_id (they are verified against it when \
                     attached), or use trust_scope = \"integration\""
                ),
            ));
        }
        (_, false) => policy.document,
    };
    for arn in &q.managed_policy_arn {
        check_managed_policy_arn(arn).map_err(|e| ApiError::invalid("managed_policy_arn", e.0))?;
    }
    if let Some(bucket) = &q.state_bucket {
        check_bucket_name(bucket).map_err(|e| ApiError::invalid("state_bucket", e.0))?;
    }
    if let Some(table) = &q.lock_table {
        check_table_name(table).map_err(|e| ApiError::invalid("lock_table", e.0))?;
    }
    let state_backend = match (q.state_bucket, q.lock_table) {
        (Some(bucket), lock_table) => Some(StateBackend { bucket, lock_table }),
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "lock_table",
                "lock_table needs state_bucket: name the S3 bucket for the state too",
            ));
        }
        (None, None) => None,
    };
    let description = format!(
        "Role deputy assumes for integration {} ({}), trust scope {}",
        integration.name, integration.id, integration.trust_scope
    );
    let template = RoleTemplate::new(
        &integration.role_arn,
        description,
        integration.duration_seconds,
        &document,
        q.managed_policy_arn,
        state_backend,
    )
    .map_err(|e| ApiError::Internal(format!("role template: {e}")))?;
    let quick_create_url = match (&q.template_url, format) {
        (None, _) => None,
        (Some(url), Format::CloudFormation) => Some(
            quick_create_url(
                &integration.role_arn,
                &integration.region,
                url,
                &format!("deputy-{}", integration.role_arn.name()),
            )
            .map_err(|e| ApiError::invalid("template_url", e.0))?,
        ),
        (Some(_), _) => {
            return Err(ApiError::invalid(
                "template_url",
                "template_url is for format=cloudformation: quick-create links open CloudFormation",
            ));
        }
    };
    Ok(axum::Json(RoleTemplateDocument {
        integration_id: integration.id.clone(),
        format: format.as_str().to_string(),
        file_name: format.file_name(integration.role_arn.name()),
        content: template.render(format),
        trust_policy_length: crate::model::trust_policy::iam_length(&document),
        quick_create_url,
    }))
}
