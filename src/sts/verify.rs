//! Running verification's probes against STS (the probes and how to read
//! them are `model::verification`): confirms first, each retried on
//! AccessDenied within one time budget (a new role is not assumable for
//! 10-30 s), then the negative probes, once each. Every call is a step of
//! the report with its outcome, attempts and time.

use std::time::{Duration, Instant};

use super::{AssumeRequest, Credentials, Sts, StsError};
use crate::api::{Step, StepOutcome, VerifyReport};
use crate::model::integration::TrustScope;
use crate::model::trust_policy::{Accepted, Actions, statement_json};
use crate::model::verification::{Answer, Probe, found_scope, judge, session_tags};
use crate::model::{AccountName, Phase, PrincipalArn, RoleArn};

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Total time AccessDenied is retried for, over the whole verification.
    pub budget: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(60),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Reported before each wait, so callers can show that something happens.
#[derive(Clone, Debug)]
pub struct Progress {
    pub probe: String,
    pub attempt: u32,
    pub waited: Duration,
    pub next_delay: Duration,
}

/// What to verify: a role, how vends call it, and the probes.
pub struct VerifyRequest<'a> {
    pub role: &'a RoleArn,
    pub region: &'a str,
    /// The vend's duration (already capped when the broker runs on role
    /// credentials), so a role whose MaxSessionDuration is lower fails here.
    pub duration: Duration,
    /// When set, probes pass the vend's session tags for this account.
    pub tag_account: Option<&'a AccountName>,
    /// When set, confirmations pass a SourceIdentity as vends do, so a
    /// role whose trust policy lacks `sts:SetSourceIdentity` fails here.
    pub source_identity: bool,
    /// Session policies of each phase's vends, passed by the confirmations
    /// of that phase, so a policy STS refuses fails here, not at a vend.
    pub read_session_policy_arns: &'a [String],
    pub write_session_policy_arns: &'a [String],
    pub probes: &'a [Probe],
    pub declared_scope: TrustScope,
    /// Fingerprint of the configuration being verified, for the report.
    pub config: &'a str,
    /// deputy's principal and the actions vends need, for the statement
    /// shown when the policy is wrong.
    pub principal: &'a PrincipalArn,
    pub actions: Actions,
    /// What the trust policy should accept for the stacks verified, in the
    /// declared scope, for the statement shown when the policy is wrong.
    pub expected: &'a Accepted,
    pub retry: RetryPolicy,
}

/// Session name of verification calls: CloudTrail shows them as deputy's.
const SESSION: &str = "deputy-verify";

impl Sts {
    pub async fn verify(
        &self,
        req: &VerifyRequest<'_>,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> VerifyReport {
        let started = Instant::now();
        let mut report = VerifyReport {
            role_arn: req.role.to_string(),
            ok: false,
            error: String::new(),
            scope: None,
            config: req.config.to_string(),
            sts_calls: 0,
            millis: 0,
            steps: Vec::with_capacity(req.probes.len()),
        };
        let mut answers = Vec::with_capacity(req.probes.len());
        let mut errors = Vec::new();
        for probe in req.probes {
            let step_started = Instant::now();
            let tags = match (req.tag_account, probe) {
                (Some(account), Probe::Confirm { stack, phase, .. }) => {
                    session_tags(account, stack, *phase, SESSION)
                }
                _ => Vec::new(),
            };
            let confirming = matches!(probe, Probe::Confirm { .. });
            let call = AssumeRequest {
                role: req.role,
                external_id: probe.external_id(),
                session_name: SESSION,
                duration: req.duration,
                tags: &tags,
                source_identity: (req.source_identity && confirming).then_some(SESSION),
                policy_arns: match probe {
                    Probe::Confirm {
                        phase: Phase::Read, ..
                    } => req.read_session_policy_arns,
                    Probe::Confirm {
                        phase: Phase::Write,
                        ..
                    } => req.write_session_policy_arns,
                    _ => &[],
                },
                region: req.region,
            };
            let (result, attempts) = if confirming {
                self.assume_with_retry(&call, &probe.name(), req.retry, started, progress)
                    .await
            } else {
                (self.assume(&call).await, 1)
            };
            report.sts_calls += attempts;
            let (answer, mut detail) = match &result {
                Ok(creds) => (Answer::Allowed, creds.assumed_role_arn.clone()),
                Err(e) if e.is_access_denied() => (Answer::Denied, e.code.clone()),
                Err(e) => (Answer::Error(e.to_string()), e.to_string()),
            };
            let mut verdict = judge(probe, &answer, req.declared_scope, req.role);
            // A confirmed session must also work: GetCallerIdentity with it.
            if let (true, Ok(creds), None) = (confirming, &result, &verdict) {
                report.sts_calls += 1;
                if let Err(e) = self.caller_arn_as(creds, req.region).await {
                    verdict = Some(format!(
                        "the session from AssumeRole on {} did not work for GetCallerIdentity ({e})",
                        req.role
                    ));
                    detail = e.to_string();
                }
            }
            let outcome = match (&verdict, &answer) {
                (Some(_), _) => StepOutcome::Failed,
                (None, Answer::Denied) => StepOutcome::Denied,
                (None, _) => StepOutcome::Ok,
            };
            report.steps.push(Step {
                name: probe.name(),
                outcome,
                detail,
                attempts,
                millis: step_started.elapsed().as_millis() as u64,
            });
            if let Some(why) = verdict {
                errors.push(why);
            }
            answers.push((probe.clone(), answer));
        }
        report.scope = Some(found_scope(&answers));
        report.ok = errors.is_empty();
        if !report.ok {
            report.error = format!(
                "{}. The statement that trusts deputy should be: {}",
                errors.join(". Also: "),
                statement_json(req.principal, req.expected, req.actions)
            );
        }
        report.millis = started.elapsed().as_millis() as u64;
        report
    }

    /// AssumeRole, retrying AccessDenied while the whole verification is
    /// within its budget; every other error is final at once.
    async fn assume_with_retry(
        &self,
        call: &AssumeRequest<'_>,
        probe: &str,
        retry: RetryPolicy,
        started: Instant,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> (Result<Credentials, StsError>, u32) {
        let mut delay = retry.first_delay;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.assume(call).await {
                Err(e) if e.is_access_denied() && started.elapsed() + delay <= retry.budget => {
                    progress(&Progress {
                        probe: probe.to_string(),
                        attempt,
                        waited: started.elapsed(),
                        next_delay: delay,
                    });
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(retry.max_delay);
                }
                other => return (other, attempt),
            }
        }
    }
}
