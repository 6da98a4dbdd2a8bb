//! Verification as the gate of every vend: when it runs, what it records,
//! and how a change waits for it.
//!
//! # States
//!
//! An integration's *configuration* is everything a vend sends to STS
//! (`model::verification::VendConfig`); its fingerprint changes with any
//! trust-relevant field. Two fingerprints are recorded:
//! - `integrations.verified_config`: the configuration whose role-level
//!   probes (the rule in `model::verification`: every part of the External
//!   ID replaced, no External ID, one of no deputy shape, the canary) last
//!   passed;
//! - `stack_phases.verified_config`: the configuration under which that
//!   stack's phase was last confirmed (AssumeRole with its External ID,
//!   real duration and session tags, then GetCallerIdentity).
//!
//! A (stack, phase) vends only while both equal the current configuration's
//! fingerprint. From that:
//! - **attach / add a phase**: verified first, detached from the request;
//!   the attachment, its phases, the verification and the audit event are
//!   written in one transaction only when it passes. Until then nothing
//!   holds the stack's phase and nothing vends.
//! - **change a trust-relevant field**: every attached phase is verified
//!   under the new configuration first; if that fails the old
//!   configuration stays in force and the caller gets the report. With
//!   nothing attached the change is written unverified.
//! - **`POST .../verify`** and the **periodic re-verification**: a failed
//!   role-level probe takes the whole integration out of vending, a failed
//!   confirmation only that phase; both are audited.
//! - **a broker killed mid-verification**: nothing was written; the pending
//!   row's lease (on the database's clock) runs out and any replica audits
//!   it as interrupted.
//! - **exact marks**: a verification marks exactly the (stack, phase) pairs
//!   it confirmed, under the fingerprint it verified; the writes that
//!   compare fingerprints lock the integration's row (PostgreSQL) or hold
//!   SQLite's single writer.
//! - **worker mode**: a worker's recorded verification expires after the
//!   re-verification interval; the integration then hands out nothing
//!   until a worker verifies again (audited).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::super::store::Pending;
use super::{access, parse, refused};
use crate::model::space::Need;
use crate::model::timestamp::now;
use crate::model::verification::{Finding, Probe, Targets};
use crate::model::{Phase, StackId};
use crate::sts::identity;
use crate::sts::{Prepared, RetryPolicy};
use crate::wire::{AuditEvent, Integration, ProblemCode, StepOutcome, VerifyQuery, VerifyReport};

/// How long a pending change's lease lasts without renewal, and how often
/// its owner renews it.
const LEASE: Duration = Duration::from_secs(20);
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// The duration a vend of `integration` asks for: AWS caps sessions at one
/// hour when the broker itself runs on role credentials (role chaining).
pub async fn vend_duration(state: &AppState, integration: &Integration) -> i64 {
    if state.role_chaining().await {
        integration
            .duration_seconds
            .min(i64::from(identity::ROLE_CHAINING_MAX_SECONDS))
    } else {
        integration.duration_seconds
    }
}

/// Verifies `integration` (as given, which may not be stored yet) for
/// `targets`, with the role-level probes. AccessDenied retries are logged
/// as they happen. `trusted` are the stacks the role must trust once the
/// change is made (the targets and those attached before), for the
/// statement a failure shows.
pub async fn verify(
    state: &AppState,
    integration: &Integration,
    targets: &Targets,
    trusted: &Targets,
    former: &[(StackId, Phase)],
) -> VerifyReport {
    let started = std::time::Instant::now();
    let report = verify_with(
        state,
        integration,
        (targets, trusted),
        former,
        state.settings.verify_retry,
    )
    .await;
    state.metrics.verification(report.ok, started.elapsed());
    report
}

/// The report of a role that does not accept `stack`'s External IDs for
/// `phases` right now, each call tried once (no wait for IAM); `None` when
/// it accepts them, when it fails another way (the attach's own
/// verification says how), or when the broker does not verify this attach
/// (worker mode, verification on attach off). Nothing is written. The
/// console asks before an attach, so that a role lacking the statement is
/// refused in a second, not after the retry budget; an operator who has
/// just changed the role attaches and waits instead.
///
/// The statement it shows covers the stacks attached before only for a
/// `caller` that holds the integration; one that only reaches it (a team
/// using a space above's integration) is told of its own stack alone.
pub async fn refused_now(
    state: &AppState,
    caller: &Caller,
    integration: &Integration,
    stack: &StackId,
    phases: Vec<Phase>,
) -> Option<VerifyReport> {
    if !state.settings.verify_on_attach || integration.generate_credentials_in_worker {
        return None;
    }
    let once = RetryPolicy {
        budget: Duration::ZERO,
        ..state.settings.verify_retry
    };
    let targets = vec![(stack.clone(), phases)];
    let holds = match access::of(state, caller).await {
        Ok(access) => access.holds(&integration.space),
        Err(_) => false,
    };
    let trusted = match state.store.attached(integration.id.as_str()).await {
        Ok(attached) if holds => with_targets(attached, &targets),
        _ => targets.clone(),
    };
    let report = verify_with(state, integration, (&targets, &trusted), &[], once).await;
    (report.finding() == Finding::NotAssumable).then_some(report)
}

/// `attached` with the phases of `change` added: the stacks a role must
/// trust once an attach or an access change is made.
pub fn with_targets(mut attached: Targets, change: &Targets) -> Targets {
    for (stack, phases) in change {
        match attached.iter_mut().find(|(s, _)| s == stack) {
            Some((_, held)) => {
                for phase in phases {
                    if !held.contains(phase) {
                        held.push(*phase);
                    }
                }
            }
            None => attached.push((stack.clone(), phases.clone())),
        }
    }
    attached
}

/// `(targets, trusted)`: the stacks probed and those the statement covers.
async fn verify_with(
    state: &AppState,
    integration: &Integration,
    (targets, trusted): (&Targets, &Targets),
    former: &[(StackId, Phase)],
    retry: RetryPolicy,
) -> VerifyReport {
    let prepared = Prepared::new(
        &state.account,
        integration,
        targets,
        former,
        integration.tag_session,
        state.canary.is_some(),
    )
    .stating_for(&state.account, trusted);
    let duration = vend_duration(state, integration).await;
    let request = prepared.request(
        Duration::from_secs(duration as u64),
        &state.principal,
        state.canary.as_ref(),
        retry,
    );
    let id = &integration.id;
    // A verification that does not retry has no progress to show, and must
    // not take the place of one running that does (the console's check
    // before an attach).
    let running = (retry.budget > Duration::ZERO).then(|| state.live.begin(id.as_str()));
    let report = state
        .sts
        .verify(&request, &|p| {
            tracing::info!(
                integration = %id,
                probe = %p.probe,
                attempt = p.attempt,
                waited_s = p.waited.as_secs(),
                next_s = p.next_delay.as_secs(),
                "role not assumable yet (AccessDenied); retrying, new IAM roles take a while"
            );
            if let Some(running) = &running {
                running.say(format!(
                    "{}: not assumable yet (AccessDenied) after {} attempt(s), {} s in; next try \
                     in {} s",
                    p.probe,
                    p.attempt,
                    p.waited.as_secs(),
                    p.next_delay.as_secs()
                ));
            }
        })
        .await;
    drop(running);
    report
}

/// Whether the role-level probes passed (every step but the confirmations).
pub fn role_ok(report: &VerifyReport) -> bool {
    report
        .steps
        .iter()
        .filter(|s| !s.name.starts_with("confirm:"))
        .all(|s| s.outcome != StepOutcome::Failed)
}

/// The verdict for each confirmed (stack, phase).
pub fn phase_results(report: &VerifyReport, targets: &Targets) -> Vec<(StackId, Phase, bool)> {
    targets
        .iter()
        .flat_map(|(stack, phases)| {
            phases.iter().map(move |phase| {
                let name = Probe::confirm_name(stack, *phase);
                (stack.clone(), *phase, report.passed(&name))
            })
        })
        .collect()
}

/// Runs `work` detached from the request that asked for it: a client that
/// disconnects or times out does not cancel it, so it always ends in
/// either the old state or the verified new one, with its audit event.
/// A pending row with a renewed lease records that it is under way, for
/// the case where the broker itself dies.
pub async fn detached<T: Send + 'static>(
    state: Arc<AppState>,
    pending: Pending,
    work: impl Future<Output = ApiResult<T>> + Send + 'static,
) -> ApiResult<T> {
    state.store.begin_pending(&pending, LEASE).await?;
    let task = tokio::spawn(async move {
        let renew = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if let Err(e) = state.store.renew_pending(&pending.id, LEASE).await {
                    tracing::warn!(error = %e, change = %pending.target, "cannot renew the lease of a pending change");
                }
            }
        };
        let result = tokio::select! {
            result = work => result,
            () = renew => unreachable!("the renewal loop never ends"),
        };
        if let Err(e) = state.store.end_pending(&pending.id).await {
            tracing::warn!(error = %e, change = %pending.target, "cannot remove a finished pending change");
        }
        result
    });
    task.await
        .map_err(|e| ApiError::Internal(format!("verification task failed: {e}")))?
}

/// A new pending change.
pub fn pending(action: &str, target: &str, key_id: Option<&str>) -> Pending {
    Pending {
        id: ulid::Ulid::new().to_string(),
        action: action.into(),
        target: target.into(),
        key_id: key_id.map(str::to_string),
        started_at: now(),
    }
}

/// Verifies `targets` under `integration`'s current configuration and
/// records the outcome with `audit` (its outcome set here). With `all`
/// (the targets are every attached stack), the role is also asked about
/// stacks detached from it, and what it refuses now is forgotten. Returns
/// the report; `Err` only when the store fails.
pub async fn record(
    state: &AppState,
    integration: &Integration,
    targets: &Targets,
    all: bool,
    mut audit: AuditEvent,
) -> ApiResult<VerifyReport> {
    let former = if all {
        state.store.former_trust(integration.id.as_str()).await?
    } else {
        Vec::new()
    };
    let report = verify(state, integration, targets, targets, &former).await;
    let refused: Vec<(StackId, Phase)> = former
        .into_iter()
        .filter(|(stack, phase)| {
            report.steps.iter().any(|s| {
                s.name == Probe::former_name(stack, *phase) && s.outcome == StepOutcome::Denied
            })
        })
        .collect();
    state
        .store
        .forget_former_trust(integration.id.as_str(), &refused)
        .await?;
    let role_ok = role_ok(&report);
    let phases = phase_results(&report, targets);
    if report.ok {
        audit.outcome = crate::model::audit::OK.into();
    } else {
        audit.outcome = "verification_failed".into();
        audit.detail = report.error.clone();
    }
    let current = state
        .store
        .record_verification(integration.id.as_str(), &report, role_ok, &phases, &audit)
        .await?;
    if !current {
        tracing::info!(integration = %integration.id, "the integration changed while it was verified; the outcome was not recorded");
    }
    if !report.ok {
        tracing::warn!(integration = %integration.id, error = %report.error, "verification failed: the role stops vending where it failed");
    }
    Ok(report)
}

/// The broker's background work until `shutdown`: audit changes left
/// pending by a dead broker, re-verify integrations whose last
/// verification is older than `interval` (zero: never), once per interval
/// across replicas, and take worker-mode integrations whose worker's
/// verification is that old out of vending (the broker cannot re-verify
/// them itself).
pub async fn background(
    state: Arc<AppState>,
    interval: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let tick = async {
        loop {
            match state.store.reap_pending().await {
                Ok(reaped) => {
                    for p in reaped {
                        tracing::warn!(change = %p.target, action = %p.action, started = %p.started_at, "a change was interrupted while it was verified; audited, nothing applied");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot reap interrupted changes"),
            }
            if !interval.is_zero() {
                if let Err(e) = reverify_due(&state, interval).await {
                    tracing::warn!(error = %e, "periodic re-verification failed");
                }
                match state.store.expire_worker_verifications(interval).await {
                    Ok(expired) => {
                        for id in expired {
                            tracing::warn!(integration = %id, "a worker's verification expired: no worker parameters until a worker verifies again (deputy verify --as-worker)");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot expire workers' verifications"),
                }
            }
            tokio::time::sleep(RENEW_EVERY).await;
        }
    };
    tokio::select! {
        () = tick => {}
        () = shutdown => {}
    }
}

async fn reverify_due(state: &AppState, interval: Duration) -> ApiResult<()> {
    for integration in state.store.claim_due_reverifications(interval).await? {
        let audit = AuditEvent {
            outcome: String::new(),
            integration_id: Some(integration.id.to_string()),
            ..AuditEvent::new(
                None,
                crate::model::audit::INTEGRATION_REVERIFY,
                &format!("integration/{}", integration.id),
            )
        };
        let targets = state.store.attached(integration.id.as_str()).await?;
        record(state, &integration, &targets, true, audit).await?;
    }
    Ok(())
}

/// `POST /v1/integrations/{id}/verify`: runs every probe against the
/// integration's role under its current configuration, for its attached
/// stacks or for the one stack `q.stack_id` names, and records the outcome
/// (a failure stops vending where it failed). A failed verification is
/// the error, with the report.
pub async fn run(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    q: &VerifyQuery,
) -> ApiResult<VerifyReport> {
    let target = format!("integration/{id}");
    let mut event = AuditEvent::new(
        Some(caller.key_id()),
        crate::model::audit::INTEGRATION_VERIFY,
        &target,
    );
    event.integration_id = Some(id.to_string());
    let refuse = |e| refused(state, event.clone(), e);
    // A verification can stop vending: it is the integration's admins' to run.
    let held = match access::of(state, caller).await {
        Ok(access) => access.integration(state, Need::Admin, id).await,
        Err(e) => Err(e),
    };
    let integration = match held {
        Ok(i) => i,
        Err(e) => return Err(refuse(e).await),
    };
    if integration.generate_credentials_in_worker {
        let e = ApiError::conflict(
            ProblemCode::WorkerMode,
            "this integration generates credentials in workers, which assume the role with their own \
             identity; the broker does not assume it, so it cannot verify it",
        );
        return Err(refuse(e).await);
    }
    let targets: Targets = match &q.stack_id {
        // Refused at once, not after a retry budget spent on a stack that
        // cannot exist.
        Some(stack) => {
            let stack: StackId = match parse("stack_id", stack) {
                Ok(s) => s,
                Err(e) => return Err(refuse(e).await),
            };
            if let Err(e) = state.store.stack(stack.as_str()).await {
                return Err(refuse(e).await);
            }
            vec![(stack, Phase::ALL.to_vec())]
        }
        None => match state.store.attached(id).await {
            Ok(t) => t,
            Err(e) => return Err(refuse(e).await),
        },
    };
    if targets.is_empty() {
        let e = ApiError::conflict(
            ProblemCode::NothingToVerify,
            "the integration has no attachments: attach a stack, or pass ?stack_id= to verify for one",
        );
        return Err(refuse(e).await);
    }
    let all = q.stack_id.is_none();
    let change = pending(&event.action, &event.target, event.key_id.as_deref());
    let task_state = state.clone();
    let report = detached(state.clone(), change, async move {
        record(&task_state, &integration, &targets, all, event).await
    })
    .await?;
    if report.ok {
        Ok(report)
    } else {
        Err(ApiError::verification_failed(report))
    }
}

/// Records the report of the same probes run by a worker with its own
/// identity (`deputy verify --as-worker`), for integrations whose
/// credentials workers generate: the broker never assumes those roles, so
/// it cannot probe them itself. The report is taken on the admin key's
/// word, as any other admin change.
pub async fn record_from_worker(
    state: &AppState,
    caller: &Caller,
    id: &str,
    report: VerifyReport,
) -> ApiResult<VerifyReport> {
    let target = format!("integration/{id}");
    let mut event = AuditEvent::new(
        Some(caller.key_id()),
        crate::model::audit::INTEGRATION_WORKER_VERIFICATION,
        &target,
    );
    event.integration_id = Some(id.to_string());
    let held = match access::of(state, caller).await {
        Ok(access) => access.integration(state, Need::Admin, id).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let recorded = match held {
        Ok(()) => record_worker(state, id, report, event.clone()).await,
        Err(e) => Err(e),
    };
    match recorded {
        Ok(report) => Ok(report),
        Err(
            e @ ApiError::Conflict {
                code: ProblemCode::VerificationFailed,
                ..
            },
        ) => Err(e),
        Err(e) => Err(refused(state, event, e).await),
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
    let targets = state.store.attached(id).await?;
    let role_ok = role_ok(&report);
    let phases = phase_results(&report, &targets);
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
