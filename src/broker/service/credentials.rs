//! Vending for runs: short-lived AWS credentials for the one stack and the
//! phases a runner key is scoped to, or that a runner trust grants the
//! OIDC ID token presented. Every request is an audit event (for tokens:
//! issuer, subject and `jti`, never the token); the credentials themselves
//! are never stored or logged.

use std::time::Duration;

use super::super::auth::Runner;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::verification::vend_duration;
use crate::model::outsider::bounded;
use crate::model::runner_trust::{Grant, Refusal, choose};
use crate::model::session_names as names;
use crate::model::timestamp;
use crate::model::verification::session_tags;
use crate::model::{ExternalId, IntegrationId, Invalid, Phase, RunId, StackId};
use crate::sts::AssumeRequest;
use crate::wire::{
    AuditEvent, BrokerCredentials, CredentialsRequest, IssuedCredentials, ProblemCode, RoleSession,
    WorkerAssignment,
};

/// Credentials (broker mode) or what a worker needs (worker mode) for the
/// run `req` describes, if `runner` may have them.
pub async fn issue(
    state: &AppState,
    runner: &Runner,
    req: &CredentialsRequest,
) -> ApiResult<IssuedCredentials> {
    let caller = match runner {
        Runner::Key { key, .. } => format!("runner key {}", key.id),
        Runner::Token(t) => format!("subject {:?} of {}", t.subject, t.issuer),
    };
    // Before anything else, and not audited: a flood must not become a
    // flood of writes.
    if let Err(refused) = state.rate_limit.check(&caller) {
        if let Some(unlogged) = refused.log {
            tracing::warn!(%caller, refused_since_last_logged = unlogged, "credential requests over the rate limit (logged once a minute per caller)");
        }
        let wait = refused.wait;
        return Err(ApiError::RateLimited {
            retry_after: wait,
            detail: format!(
                "too many credential requests from {caller}: at most {} a minute; ask again in \
                 {wait} s",
                state.settings.credentials_per_minute
            ),
        });
    }
    let started = std::time::Instant::now();
    let session_name = names::session_name(&req.run_id);
    // Refusals are audited too: a runner asking beyond its scope is news.
    // Checked first: nothing of an invalid run id or stack id is written.
    let run_id: Result<RunId, Invalid> = req.run_id.parse();
    let valid_run_id = run_id.is_ok();
    let requested: Result<Option<StackId>, ApiError> = req
        .stack_id
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e: Invalid| ApiError::invalid("stack_id", e.0))
        })
        .transpose();
    let scope = match (&run_id, requested) {
        (Err(e), _) => Err(ApiError::invalid("run_id", e.0.clone())),
        (_, Err(e)) => Err(e),
        (Ok(_), Ok(requested)) => authorize(runner, requested, req.phase),
    };
    let (stack, trust_id) = match &scope {
        Ok(s) => (Some(s.stack.clone()), s.trust_id.clone()),
        Err(_) => match runner {
            Runner::Key { stack_id, .. } => (Some(stack_id.clone()), None),
            Runner::Token(_) => (None, None),
        },
    };
    let result = match scope {
        Ok(scope) => match used_once(state, runner, &scope).await {
            Ok(()) => issue_for(state, &scope.stack, req, &session_name).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
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
    state.metrics.vend(
        match &result {
            Ok(_) => "issued",
            Err(e) if e.code() == ProblemCode::AssumeRoleFailed || e.status().is_server_error() => {
                "failed"
            }
            Err(_) => "refused",
        },
        started.elapsed(),
    );
    let (key_id, token) = match runner {
        Runner::Key { key, .. } => (Some(key.id.as_str()), None),
        Runner::Token(t) => (None, Some(t)),
    };
    let target = stack
        .as_ref()
        .map_or("stack/?".to_string(), |s| format!("stack/{s}"));
    state
        .store
        .record_audit(&AuditEvent {
            outcome,
            stack_id: stack.map(String::from),
            phase: Some(req.phase),
            run_id: run_id.ok().map(String::from),
            integration_id,
            session_name: valid_run_id.then_some(session_name),
            source_identity,
            expires_at,
            detail,
            token_issuer: token.map(|t| t.issuer.clone()),
            token_subject: token.map(|t| bounded(&t.subject, 256)),
            token_id: token.and_then(|t| t.id.as_deref().map(|j| bounded(j, 256))),
            runner_trust_id: trust_id,
            ..AuditEvent::new(key_id, crate::model::audit::CREDENTIALS_ISSUE, &target)
        })
        .await?;
    result.map(|(issued, _)| issued)
}

/// What a request may get: a stack, and the runner trust that allows it
/// (for tokens).
struct Scope {
    stack: StackId,
    trust_id: Option<String>,
    /// The trust accepts each token once.
    single_use: bool,
}

/// Decides the stack a request is for and whether its caller may get
/// `phase` credentials for it.
fn authorize(runner: &Runner, requested: Option<StackId>, phase: Phase) -> ApiResult<Scope> {
    let token = match runner {
        Runner::Key { key, stack_id } => {
            if requested.as_ref().is_some_and(|s| s != stack_id) {
                return Err(ApiError::Forbidden(format!(
                    "API key {} is for stack {stack_id}, not {}",
                    key.id,
                    requested.as_ref().map(StackId::as_str).unwrap_or_default()
                )));
            }
            if !key.phases.contains(&phase) {
                return Err(ApiError::Forbidden(format!(
                    "API key {} may not get {phase} credentials for stack {stack_id}",
                    key.id
                )));
            }
            return Ok(Scope {
                stack: stack_id.clone(),
                trust_id: None,
                single_use: false,
            });
        }
        Runner::Token(token) => token,
    };
    let grants: Vec<Grant<'_>> = token
        .trusts
        .iter()
        .map(|t| Grant {
            id: &t.id,
            stack: &t.stack_id,
            subject: &t.subject,
            claims: &t.claims,
            phases: &t.phases,
        })
        .collect();
    match choose(
        &token.issuer,
        &token.subject,
        &token.claims,
        &grants,
        requested.as_ref(),
        phase,
    ) {
        Ok((stack, trust_id)) => Ok(Scope {
            stack,
            single_use: token
                .trusts
                .iter()
                .any(|t| t.id == trust_id && t.single_use_tokens),
            trust_id: Some(trust_id.to_string()),
        }),
        Err(Refusal::Forbidden(why)) => Err(ApiError::Forbidden(why)),
        Err(Refusal::Ambiguous(why)) => Err(ApiError::invalid("stack_id", why)),
    }
}

/// For a trust that accepts each token once: marks the token used (in the
/// store, so every replica sees it), or refuses it as used before. Checked
/// after authorization, so a token refused for its scope is not spent.
async fn used_once(state: &AppState, runner: &Runner, scope: &Scope) -> ApiResult<()> {
    let (Runner::Token(token), true, Some(trust)) = (runner, scope.single_use, &scope.trust_id)
    else {
        return Ok(());
    };
    let jti = token
        .id
        .as_deref()
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| {
            ApiError::Unauthenticated(format!(
                "ID token refused: runner trust {trust} accepts each token once, and this token \
                 has no usable `jti` claim to tell it from others"
            ))
        })?;
    let kept_until = time::OffsetDateTime::from_unix_timestamp(
        i64::try_from(token.valid_until).unwrap_or(i64::MAX),
    )
    .map_or_else(|_| "9999-12-31T23:59:59Z".to_string(), timestamp::format);
    if state
        .store
        .use_token_once(&token.issuer, jti, &kept_until, &timestamp::now())
        .await?
    {
        return Ok(());
    }
    Err(ApiError::Unauthenticated(format!(
        "ID token refused: it was used before (`jti` {:?}), and runner trust {trust} accepts each \
         token once; have the job mint a fresh token for each request (`deputy exec --id-token \
         github-actions` does)",
        bounded(jti, 64)
    )))
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
            ApiError::Missing(format!(
                "stack \"{stack}\" has no integration attached for its {phase} phase: attach one \
                 (deputy attachment create --integration ID --stack {stack}, or \
                 deputy_aws_integration_attachment) and try again",
                phase = req.phase
            ))
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
        let session_policy_arns = integration.session_policy_arns(req.phase).to_vec();
        let assignment = WorkerAssignment {
            session: RoleSession {
                role_arn: integration.role_arn,
                region: integration.region,
                session_name: session_name.to_string(),
                external_id,
                duration_seconds: integration.duration_seconds,
                source_identity,
            },
            session_policy_arns,
        };
        return Ok((IssuedCredentials::Worker(assignment), integration.id));
    }
    let duration = vend_duration(state, &integration).await;
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
            policy_arns: integration.session_policy_arns(req.phase),
            region: integration.region.as_str(),
        })
        .await
        .map_err(|e| {
            state.metrics.sts_error("AssumeRole", &e.code);
            ApiError::conflict(
                ProblemCode::AssumeRoleFailed,
                format!(
                    "AssumeRole on {role} failed: {e}. Verify the integration (`deputy verify`)."
                ),
            )
        })?;
    let issued = BrokerCredentials {
        session: RoleSession {
            role_arn: integration.role_arn.clone(),
            region: integration.region,
            session_name: session_name.to_string(),
            external_id,
            duration_seconds: duration,
            source_identity,
        },
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
