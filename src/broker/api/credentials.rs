//! `POST /v1/credentials`: short-lived AWS credentials for a run, for the
//! one stack and the phases a runner key is scoped to. Every request is an
//! audit event; the credentials themselves are never stored or logged.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;

use super::super::auth::Runner;
use super::super::error::{ApiError, ApiResult};
use super::super::store::{now, timestamp};
use super::{AppState, Json, parse, trust};
use crate::api::{AuditEvent, CredentialsRequest, IssuedCredentials};
use crate::model::{ExternalId, RoleArn};
use crate::sts::{AssumeRequest, identity, names};

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
    let result = if req.stack_id.as_ref().is_some_and(|s| *s != stack) {
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
    let (outcome, detail, integration_id, expires_at) = match &result {
        Ok((issued, integration)) => (
            "ok".to_string(),
            issued.mode.clone(),
            Some(integration.clone()),
            issued.expiration.clone(),
        ),
        Err(e) => (e.problem().code, e.to_string(), None, None),
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
            stack_id: Some(stack.clone()),
            phase: Some(req.phase.to_string()),
            run_id: Some(req.run_id.clone()),
            integration_id,
            session_name: Some(session_name),
            expires_at,
            detail,
        })
        .await?;
    result.map(|(issued, _)| axum::Json(issued))
}

async fn issue_for(
    state: &AppState,
    stack: &str,
    req: &CredentialsRequest,
    session_name: &str,
) -> ApiResult<(IssuedCredentials, String)> {
    let integration = state
        .store
        .integration_for(stack, req.phase)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "integration for the phase of stack",
                format!("{stack}/{}", req.phase),
            )
        })?;
    let integration_id = integration.id.clone();
    let ids = trust::external_ids(state, &integration, stack, &[req.phase])?;
    let external_id = ids.into_values().next().unwrap_or_default();
    let mut issued = IssuedCredentials {
        mode: "worker".into(),
        role_arn: integration.role_arn.clone(),
        region: integration.region.clone(),
        session_name: session_name.to_string(),
        external_id: external_id.clone(),
        duration_seconds: integration.duration_seconds,
        access_key_id: None,
        secret_access_key: None,
        session_token: None,
        expiration: None,
        assumed_role_arn: None,
    };
    if integration.generate_credentials_in_worker {
        return Ok((issued, integration_id));
    }
    let role: RoleArn = parse("role_arn", &integration.role_arn)?;
    let external: ExternalId = parse("external_id", &external_id)?;
    let mut duration = integration.duration_seconds;
    if state.role_chaining().await {
        duration = duration.min(i64::from(identity::ROLE_CHAINING_MAX_SECONDS));
    }
    let tags: Vec<(String, String)> = if integration.tag_session {
        vec![
            ("deputy:stack".into(), stack.to_string()),
            ("deputy:run".into(), req.run_id.clone()),
            ("deputy:phase".into(), req.phase.to_string()),
            ("deputy:account".into(), state.account.to_string()),
        ]
    } else {
        Vec::new()
    };
    let creds = state
        .sts
        .assume(&AssumeRequest {
            role: &role,
            external_id: Some(&external),
            session_name,
            duration: Duration::from_secs(duration as u64),
            tags: &tags,
            region: &integration.region,
        })
        .await
        .map_err(|e| {
            ApiError::conflict(
                "assume_role_failed",
                format!(
                    "AssumeRole on {role} failed: {e}. Verify the integration (`deputy verify`)."
                ),
            )
        })?;
    issued.mode = "broker".into();
    issued.duration_seconds = duration;
    issued.access_key_id = Some(creds.access_key_id);
    issued.secret_access_key = Some(creds.secret_access_key.expose().to_string());
    issued.session_token = Some(creds.session_token.expose().to_string());
    issued.expiration = time::OffsetDateTime::from_unix_timestamp(creds.expiration)
        .ok()
        .map(timestamp);
    issued.assumed_role_arn = Some(creds.assumed_role_arn);
    Ok((issued, integration_id))
}
