//! External IDs and trust policies: what a customer puts in a role's trust
//! policy so that deputy, and only deputy acting for the right stack and
//! phase, can assume it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::verification;
use super::openapi;
use super::{AppState, Path, Query, Route, parse, route};
use crate::api::{ExternalIdQuery, ExternalIds, Integration, ProblemCode, TrustPolicy};
use crate::model::trust_policy::{Accepted, check_length, document_json, statement_json};
use crate::model::{ExternalId, Phase, StackId};

pub fn routes() -> Vec<Route> {
    vec![
        route(
            "/v1/integrations/{id}/external-ids",
            Method::GET,
            get(external_ids_route),
        ),
        route(
            "/v1/integrations/{id}/trust-policy",
            Method::GET,
            get(trust_policy),
        ),
    ]
}

/// The External ID of each phase: the integration's custom one in worker
/// mode, else the derived `<account>@<integration>@<stack>@<phase>`.
pub fn external_ids(
    state: &AppState,
    integration: &Integration,
    stack: &StackId,
    phases: &[Phase],
) -> BTreeMap<Phase, ExternalId> {
    phases
        .iter()
        .map(|phase| {
            let id = ExternalId::for_phase(
                &state.account,
                &integration.id,
                integration.external_id.as_ref(),
                stack,
                *phase,
            );
            (*phase, id)
        })
        .collect()
}

#[utoipa::path(
    operation_id = "trust_external_ids_route",
    get, path = "/v1/integrations/{id}/external-ids", tag = "trust", params(("id" = String, Path, description = "The integration's id."), ExternalIdQuery),
    responses((status = 200, description = "The stack's External IDs and statement.", body = ExternalIds), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
async fn external_ids_route(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ExternalIdQuery>,
) -> ApiResult<axum::Json<ExternalIds>> {
    let phases: Vec<Phase> = match &q.phases {
        None => Phase::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|p| parse::<Phase>("phases", p.trim()))
            .collect::<ApiResult<_>>()?,
    };
    let integration = state.store.integration(&id).await?;
    let stack = existing_stack(&state, &q.stack_id).await?;
    let ids = external_ids(&state, &integration, &stack, &phases);
    let accepted = accepted(&state, &integration, &[(stack.clone(), phases)]);
    let statement = statement_json(&state.principal, &accepted, integration.trust_actions());
    let length = check_length(&statement, state.settings.max_trust_policy_length, 1)
        .map_err(|e| ApiError::conflict(ProblemCode::TrustPolicyTooLong, e.0))?;
    Ok(axum::Json(ExternalIds {
        integration_id: integration.id,
        stack_id: stack,
        external_ids: ids,
        assume_role_policy_statement: statement,
        length,
    }))
}

/// The stack named by a `stack_id` parameter, which must exist (attached
/// or not): a 422 on `stack_id` otherwise.
pub async fn existing_stack(state: &AppState, text: &str) -> ApiResult<StackId> {
    let stack: StackId = parse("stack_id", text)?;
    state
        .store
        .stack(stack.as_str())
        .await
        .map_err(|e| match e {
            ApiError::NotFound { .. } => {
                ApiError::invalid("stack_id", format!("stack {text:?} does not exist"))
            }
            other => other,
        })?;
    Ok(stack)
}

/// What `integration`'s role must accept for `stacks`, in its scope.
pub fn accepted(
    state: &AppState,
    integration: &Integration,
    stacks: &[(StackId, Vec<Phase>)],
) -> Accepted {
    Accepted::for_stacks(
        integration.trust_scope,
        &state.account,
        &integration.id,
        integration.external_id.as_ref(),
        stacks,
    )
}

/// The trust policy `integration`'s role needs for `stacks`, refused with
/// both fixes when it is longer than the broker's limit.
pub fn trust_policy_for(
    state: &AppState,
    integration: &Integration,
    stacks: &[(StackId, Vec<Phase>)],
) -> ApiResult<TrustPolicy> {
    let accepted = accepted(state, integration, stacks);
    let document = if accepted.is_empty() {
        // IAM rejects a condition with an empty list; an integration with no
        // attachments trusts nobody.
        String::new()
    } else {
        document_json(&state.principal, &accepted, integration.trust_actions())
    };
    let length = check_length(
        &document,
        state.settings.max_trust_policy_length,
        stacks.len(),
    )
    .map_err(|e| ApiError::conflict(ProblemCode::TrustPolicyTooLong, e.0))?;
    Ok(TrustPolicy {
        integration_id: integration.id.clone(),
        principal_arn: state.principal.clone(),
        trust_scope: integration.trust_scope,
        external_ids: stacks
            .iter()
            .flat_map(|(stack, phases)| {
                external_ids(state, integration, stack, phases).into_values()
            })
            .collect(),
        accepted: accepted.values().into_iter().map(str::to_string).collect(),
        stacks: stacks.len(),
        document,
        length,
        max_length: state.settings.max_trust_policy_length,
    })
}

#[utoipa::path(
    operation_id = "trust_trust_policy",
    get, path = "/v1/integrations/{id}/trust-policy", tag = "trust", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 200, description = "The trust policy over every attachment.", body = TrustPolicy), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict),
)]
async fn trust_policy(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TrustPolicy>> {
    let integration = state.store.integration(&id).await?;
    let stacks = verification::attached(&state, &id).await?;
    Ok(axum::Json(trust_policy_for(&state, &integration, &stacks)?))
}
