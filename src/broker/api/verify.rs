//! `POST /v1/integrations/{id}/verify`: runs every probe against the
//! integration's role under its current configuration (see
//! `broker::verification`), records the outcome (a failure stops vending
//! where it failed) and answers the report.
//!
//! `POST /v1/integrations/{id}/worker-verification`: records the report of
//! the same probes run by a worker with its own identity (`deputy verify
//! --as-worker`), for integrations whose credentials workers generate: the
//! broker never assumes those roles, so it cannot probe them itself. The
//! report is taken on the admin key's word, as any other admin change.

use std::sync::Arc;

use axum::extract::State;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::verification;
use super::openapi;
use super::{AppState, Json, Path, Query, audit_event, parse};
use crate::api::{AuditEvent, ProblemCode, VerifyQuery, VerifyReport};
use crate::model::verification::Probe;
use crate::model::{Phase, StackId};

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
    let target = format!("integration/{id}");
    let mut event = audit_event(Some(caller.key_id()), "integration.verify", &target);
    event.integration_id = Some(id.clone());
    let refused = |e| state.refused(event.clone(), e);
    let integration = match state.store.integration(&id).await {
        Ok(i) => i,
        Err(e) => return Err(refused(e).await),
    };
    if integration.generate_credentials_in_worker {
        let e = ApiError::conflict(
            ProblemCode::WorkerMode,
            "this integration generates credentials in workers, which assume the role with their own \
             identity; the broker does not assume it, so it cannot verify it",
        );
        return Err(refused(e).await);
    }
    let targets: verification::Targets = match &q.stack_id {
        // Refused at once, not after a retry budget spent on a stack that
        // cannot exist.
        Some(stack) => {
            let stack: StackId = match parse("stack_id", stack) {
                Ok(s) => s,
                Err(e) => return Err(refused(e).await),
            };
            if let Err(e) = state.store.stack(stack.as_str()).await {
                return Err(refused(e).await);
            }
            vec![(stack, Phase::ALL.to_vec())]
        }
        None => match verification::attached(&state, &id).await {
            Ok(t) => t,
            Err(e) => return Err(refused(e).await),
        },
    };
    if targets.is_empty() {
        let e = ApiError::conflict(
            ProblemCode::NothingToVerify,
            "the integration has no attachments: attach a stack, or pass ?stack_id= to verify for one",
        );
        return Err(refused(e).await);
    }
    let pending = verification::pending(&event.action, &event.target, event.key_id.as_deref());
    let task_state = state.clone();
    let report = verification::detached(state.clone(), pending, async move {
        verification::record(&task_state, &integration, &targets, event).await
    })
    .await?;
    if report.ok {
        Ok(axum::Json(report))
    } else {
        Err(ApiError::verification_failed(report))
    }
}

#[utoipa::path(
    operation_id = "verify_worker_verification",
    post, path = "/v1/integrations/{id}/worker-verification", tag = "verification",
    params(("id" = String, Path, description = "The integration's id.")),
    request_body = VerifyReport,
    responses(
        (status = 200, description = "Recorded: the role is safe for the worker.", body = VerifyReport),
        openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict,
        openapi::Invalid,
    ),
)]
pub async fn worker_verification(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(report): Json<VerifyReport>,
) -> ApiResult<axum::Json<VerifyReport>> {
    let target = format!("integration/{id}");
    let mut event = audit_event(
        Some(caller.key_id()),
        "integration.worker_verification",
        &target,
    );
    event.integration_id = Some(id.clone());
    match record_worker(&state, &id, report, event.clone()).await {
        Ok(report) => Ok(axum::Json(report)),
        Err(
            e @ ApiError::Conflict {
                code: ProblemCode::VerificationFailed,
                ..
            },
        ) => Err(e),
        Err(e) => Err(state.refused(event, e).await),
    }
}

async fn record_worker(
    state: &AppState,
    id: &str,
    report: VerifyReport,
    mut audit: AuditEvent,
) -> ApiResult<VerifyReport> {
    let integration = state.store.integration(id).await?;
    if !integration.generate_credentials_in_worker {
        return Err(ApiError::conflict(
            ProblemCode::WorkerMode,
            "this integration is in broker mode: the broker verifies it itself (`deputy verify \
             --integration ID`, without --as-worker)",
        ));
    }
    if report.config != integration.vend_config().fingerprint() {
        return Err(ApiError::conflict(
            ProblemCode::ConfigurationChanged,
            "the report verified another configuration of this integration than the current one: \
             run `deputy verify --as-worker` again",
        ));
    }
    // A report that did not run the role-level probes proves nothing.
    if !report
        .steps
        .iter()
        .any(|s| Probe::is_no_external_id(&s.name))
    {
        return Err(ApiError::invalid(
            "steps",
            "the report lacks the probe without an External ID: run `deputy verify --as-worker`",
        ));
    }
    let targets = verification::attached(state, id).await?;
    let role_ok = verification::role_ok(&report);
    let phases = verification::phase_results(&report, &targets);
    if !report.ok {
        audit.outcome = ProblemCode::VerificationFailed.to_string();
        audit.detail = report.error.clone();
    }
    state
        .store
        .record_verification(id, &report, role_ok, &phases, &audit)
        .await?;
    if report.ok {
        Ok(report)
    } else {
        Err(ApiError::verification_failed(report))
    }
}
