//! `POST /v1/integrations/{id}/verify`: proves the integration's role is
//! assumable with each attached phase's External ID and refused without
//! one, and records the outcome on the integration.

use std::sync::Arc;

use axum::extract::{Path, State};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::store::now;
use super::{AppState, Query, parse, trust};
use crate::api::Integration;
use crate::model::{ExternalId, Phase, RoleArn};
use crate::sts::{VerifyReport, VerifyRequest};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// Verify for this stack (attached or not) instead of every attachment.
    stack_id: Option<String>,
}

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
                    "worker_mode",
                    "this integration generates credentials in workers, which assume the role with their \
                     own identity; the broker does not assume it, so it cannot verify it",
                ));
            }
            let mut ids: Vec<(Phase, ExternalId)> = Vec::new();
            let targets: Vec<(String, Vec<Phase>)> = match &q.stack_id {
                Some(stack) => vec![(stack.clone(), Phase::ALL.to_vec())],
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
                    "nothing_to_verify",
                    "the integration has no attachments: attach a stack, or pass ?stack_id= to verify for one",
                ));
            }
            for (stack, phases) in targets {
                ids.extend(ids_for(&state, &integration, &stack, &phases)?);
            }
            let report = run(&state, &integration, &ids).await?;
            if report.ok {
                Ok(axum::Json(report))
            } else {
                Err(ApiError::conflict("verification_failed", report.error.clone()))
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
    let role: RoleArn = parse("role_arn", &integration.role_arn)?;
    let request = VerifyRequest {
        role: &role,
        region: &integration.region,
        principal: &state.principal,
        external_ids: ids,
        actions: trust::actions(integration),
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
        .record_verification(
            id,
            &now(),
            &serde_json::to_value(&report).expect("report serializes"),
        )
        .await?;
    Ok(report)
}

/// The External IDs to verify for one stack's phases.
pub fn ids_for(
    state: &AppState,
    integration: &Integration,
    stack: &str,
    phases: &[Phase],
) -> ApiResult<Vec<(Phase, ExternalId)>> {
    trust::external_ids(state, integration, stack, phases)?
        .into_iter()
        .map(|(phase, ext)| Ok((phase, parse("external_id", &ext)?)))
        .collect()
}
