//! `POST /v1/integrations/{id}/verify`: proves the integration's role is
//! assumable with each attached phase's External ID and refused without
//! one, and records the outcome on the integration.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::openapi;
use super::{AppState, Path, Query, parse, trust};
use crate::api::ProblemCode;
use crate::api::{Integration, VerifyQuery, VerifyReport};
use crate::model::timestamp::now;
use crate::model::{ExternalId, Phase, StackId};
use crate::sts::VerifyRequest;

#[utoipa::path(
    operation_id = "verify_verify",
    post, path = "/v1/integrations/{id}/verify", tag = "verification", params(("id" = String, Path, description = "The integration's id."), VerifyQuery),
    responses((status = 200, description = "The role is safe: the report.", body = VerifyReport), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Query(q): Query<VerifyQuery>,
) -> ApiResult<axum::Json<VerifyReport>> {
    state
        .audited(&caller, "integration.verify", &format!("integration/{id}"), async {
            let integration = state.store.integration(&id).await?;
            if integration.generate_credentials_in_worker {
                return Err(ApiError::conflict(
                    ProblemCode::WorkerMode,
                    "this integration generates credentials in workers, which assume the role with their \
                     own identity; the broker does not assume it, so it cannot verify it",
                ));
            }
            let mut ids: Vec<(Phase, ExternalId)> = Vec::new();
            let targets: Vec<(StackId, Vec<Phase>)> = match &q.stack_id {
                Some(stack) => vec![(parse("stack_id", stack)?, Phase::ALL.to_vec())],
                None => state
                    .store
                    .attachments_of_integration(&id)
                    .await?
                    .into_iter()
                    .map(|a| {
                        let phases = a.phases();
                        (a.stack_id, phases)
                    })
                    .collect(),
            };
            if targets.is_empty() {
                return Err(ApiError::conflict(
                    ProblemCode::NothingToVerify,
                    "the integration has no attachments: attach a stack, or pass ?stack_id= to verify for one",
                ));
            }
            for (stack, phases) in targets {
                ids.extend(ids_for(&state, &integration, &stack, &phases));
            }
            let report = run(&state, &integration, &ids).await?;
            if report.ok {
                Ok(axum::Json(report))
            } else {
                Err(ApiError::verification_failed(report))
            }
        })
        .await
}

/// Verifies `integration`'s role for `ids` and records the outcome on the
/// integration. AccessDenied retries are logged as they happen.
pub async fn run(
    state: &AppState,
    integration: &Integration,
    ids: &[(Phase, ExternalId)],
) -> ApiResult<VerifyReport> {
    let request = VerifyRequest {
        role: &integration.role_arn,
        region: integration.region.as_str(),
        principal: &state.principal,
        external_ids: ids,
        actions: integration.trust_actions(),
        retry: state.verify_retry,
    };
    let id = &integration.id;
    let report = state
        .sts
        .verify(&request, &|p| {
            tracing::info!(
                integration = %id,
                phase = %p.phase,
                attempt = p.attempt,
                waited_s = p.waited.as_secs(),
                next_s = p.next_delay.as_secs(),
                "role not assumable yet (AccessDenied); retrying, new IAM roles take a while"
            )
        })
        .await;
    state
        .store
        .record_verification(id.as_str(), &now(), &report)
        .await?;
    Ok(report)
}

/// The External IDs to verify for one stack's phases.
pub fn ids_for(
    state: &AppState,
    integration: &Integration,
    stack: &StackId,
    phases: &[Phase],
) -> Vec<(Phase, ExternalId)> {
    trust::external_ids(state, integration, stack, phases)
        .into_iter()
        .collect()
}
