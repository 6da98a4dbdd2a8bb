//! `POST /v1/credentials`: short-lived AWS credentials for a run, for the
//! one stack and the phases a runner key is scoped to. Every request is an
//! audit event; the credentials themselves are never stored or logged.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;

use super::super::auth::Runner;
use super::super::error::{ApiError, ApiResult};
use super::super::verification;
use super::openapi;
use super::{AppState, Json};
use crate::api::{
    AuditEvent, BrokerCredentials, CredentialsRequest, IssuedCredentials, ProblemCode,
    WorkerAssignment,
};
use crate::model::timestamp::{self, now};
use crate::model::verification::session_tags;
use crate::model::{ExternalId, IntegrationId, Invalid, RunId, StackId};
use crate::sts::{AssumeRequest, names};

#[utoipa::path(
    operation_id = "credentials_issue",
    post, path = "/v1/credentials", tag = "credentials", request_body = CredentialsRequest,
    responses((status = 200, description = "Credentials (broker mode) or what a worker needs (worker mode).", body = IssuedCredentials), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub async fn issue(
    State(state): State<Arc<AppState>>,
    Runner {
        caller,
        stack_id: stack,
    }: Runner,
    Json(req): Json<CredentialsRequest>,
) -> ApiResult<axum::Json<IssuedCredentials>> {
    let key = &caller.key;
    let session_name = names::session_name(&req.run_id);
    // Refusals are audited too: a runner asking beyond its scope is news.
    // Checked first: nothing of an invalid run id is written anywhere.
    let run_id: Result<RunId, Invalid> = req.run_id.parse();
    let valid_run_id = run_id.is_ok();
    let result = if let Err(e) = &run_id {
        Err(ApiError::invalid("run_id", e.0.clone()))
    } else if req.stack_id.as_ref().is_some_and(|s| s != stack.as_str()) {
        Err(ApiError::Forbidden(format!(
            "API key {} is for stack {stack}, not {}",
            key.id,
            req.stack_id.as_deref().unwrap_or_default()
        )))
    } else if key.phases.contains(&req.phase) {
        issue_for(&state, &stack, &req, &session_name).await
    } else {
        Err(ApiError::Forbidden(format!(
            "API key {} may not get {} credentials for stack {stack}",
            key.id, req.phase
        )))
    };
    let (outcome, detail, integration_id, expires_at, source_identity) = match &result {
        Ok((issued, integration)) => (
            "ok".to_string(),
            issued.mode().to_string(),
            Some(integration.to_string()),
            issued.expiration().map(str::to_string),
            issued.source_identity().map(str::to_string),
        ),
        Err(e) => (e.code().to_string(), e.to_string(), None, None, None),
    };
    state
        .store
        .record_audit(&AuditEvent {
            id: ulid::Ulid::new().to_string(),
            at: now(),
            key_id: Some(key.id.clone()),
            action: "credentials.issue".into(),
            target: format!("stack/{stack}"),
            outcome,
            stack_id: Some(stack.to_string()),
            phase: Some(req.phase),
            run_id: run_id.ok().map(String::from),
            integration_id,
            session_name: valid_run_id.then_some(session_name),
            source_identity,
            expires_at,
            detail,
        })
        .await?;
    result.map(|(issued, _)| axum::Json(issued))
}

async fn issue_for(
    state: &AppState,
    stack: &StackId,
    req: &CredentialsRequest,
    session_name: &str,
) -> ApiResult<(IssuedCredentials, IntegrationId)> {
    let target = state
        .store
        .vend_target(stack.as_str(), req.phase)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "integration for the phase of stack",
                format!("{stack}/{}", req.phase),
            )
        })?;
    let integration = target.integration;
    // The invariant: only a configuration verified for this stack and phase
    // vends, credentials (broker mode) or what a worker needs (worker mode,
    // verified by a worker with `deputy verify --as-worker`).
    if !target.verified {
        let how = if integration.generate_credentials_in_worker {
            " --as-worker` on a worker"
        } else {
            "`"
        };
        return Err(ApiError::conflict(
            ProblemCode::NotVerified,
            format!(
                "integration {} has no passing verification of its current configuration for stack \
                 {stack}'s {} phase, so it does not vend: run `deputy verify --integration {}{how} and \
                 fix what it reports",
                integration.id, req.phase, integration.id
            ),
        ));
    }
    let external_id = ExternalId::for_phase(
        &state.account,
        &integration.id,
        integration.external_id.as_ref(),
        stack,
        req.phase,
    );
    let source_identity = integration
        .set_source_identity
        .then(|| names::source_identity(&req.run_id));
    if integration.generate_credentials_in_worker {
        let assignment = WorkerAssignment {
            role_arn: integration.role_arn,
            region: integration.region,
            session_name: session_name.to_string(),
            external_id,
            duration_seconds: integration.duration_seconds,
            source_identity,
        };
        return Ok((IssuedCredentials::Worker(assignment), integration.id));
    }
    let duration = verification::vend_duration(state, &integration).await;
    let tags = if integration.tag_session {
        session_tags(&state.account, stack, req.phase, &req.run_id)
    } else {
        Vec::new()
    };
    let role = &integration.role_arn;
    let creds = state
        .sts
        .assume(&AssumeRequest {
            role,
            external_id: Some(&external_id),
            session_name,
            duration: Duration::from_secs(duration as u64),
            tags: &tags,
            source_identity: source_identity.as_deref(),
            region: integration.region.as_str(),
        })
        .await
        .map_err(|e| {
            ApiError::conflict(
                ProblemCode::AssumeRoleFailed,
                format!(
                    "AssumeRole on {role} failed: {e}. Verify the integration (`deputy verify`)."
                ),
            )
        })?;
    let issued = BrokerCredentials {
        role_arn: integration.role_arn.clone(),
        region: integration.region,
        session_name: session_name.to_string(),
        external_id,
        duration_seconds: duration,
        source_identity,
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose().to_string(),
        session_token: creds.session_token.expose().to_string(),
        expiration: timestamp::from_unix(creds.expiration).ok_or_else(|| {
            ApiError::Internal(format!(
                "STS answered an expiration out of range: {}",
                creds.expiration
            ))
        })?,
        assumed_role_arn: creds.assumed_role_arn,
    };
    Ok((IssuedCredentials::Broker(issued), integration.id))
}
