//! Verification: proves a role is usable by deputy and by nobody else
//! through deputy.
//!
//! 1. AssumeRole with each attached phase's External ID, then
//!    GetCallerIdentity with the session: must work. A role created moments
//!    ago answers AccessDenied for a while, so that step is retried with
//!    bounded backoff; nothing else is.
//! 2. AssumeRole with no External ID: must be denied. STS accepts an
//!    External ID even when the policy does not ask for one, so only this
//!    call proves the condition is there. If it succeeds, the role is open to
//!    anyone who can make deputy name it: refused.

use std::time::{Duration, Instant};

use super::{AssumeRequest, Sts, StsError};
use crate::api::{Step, StepOutcome, VerifyReport};
use crate::model::trust_policy::{Actions, statement_json};
use crate::model::{ExternalId, Phase, PrincipalArn, RoleArn};

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Total time AccessDenied is retried for.
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
    pub phase: Phase,
    pub attempt: u32,
    pub waited: Duration,
    pub next_delay: Duration,
}

/// What to verify: a role, where, for whom, with which External IDs.
pub struct VerifyRequest<'a> {
    pub role: &'a RoleArn,
    pub region: &'a str,
    /// deputy's principal, for the statement shown when the policy is wrong.
    pub principal: &'a PrincipalArn,
    pub external_ids: &'a [(Phase, ExternalId)],
    pub actions: Actions,
    pub retry: RetryPolicy,
}

impl Sts {
    pub async fn verify(
        &self,
        req: &VerifyRequest<'_>,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> VerifyReport {
        let VerifyRequest {
            role,
            region,
            principal,
            external_ids,
            actions,
            retry,
        } = *req;
        let mut report = VerifyReport {
            role_arn: role.to_string(),
            ok: false,
            error: String::new(),
            steps: Vec::new(),
        };
        for (phase, id) in external_ids {
            let started = Instant::now();
            let (result, attempts) = self
                .assume_with_retry(role, region, *phase, id, retry, progress)
                .await;
            let step = |outcome: StepOutcome, detail: String, attempts| Step {
                name: format!("assume_role_with_external_id:{phase}"),
                outcome,
                detail,
                attempts,
                millis: started.elapsed().as_millis() as u64,
            };
            let creds = match result {
                Ok(c) => c,
                Err(e) => {
                    report
                        .steps
                        .push(step(StepOutcome::Failed, e.to_string(), attempts));
                    report.error = format!(
                        "AssumeRole on {role} with the {phase} External ID failed ({e}){}. The role's trust \
                         policy must allow deputy's principal with that External ID: {}",
                        if e.is_access_denied() {
                            " after retrying for as long as IAM usually needs"
                        } else {
                            ""
                        },
                        statement_json(principal, std::slice::from_ref(id), actions)
                    );
                    return report;
                }
            };
            report.steps.push(step(
                StepOutcome::Ok,
                creds.assumed_role_arn.clone(),
                attempts,
            ));
            let started = Instant::now();
            let who = self.caller_arn_as(&creds, region).await;
            let name = format!("get_caller_identity:{phase}");
            match who {
                Ok(arn) => report.steps.push(Step {
                    name,
                    outcome: StepOutcome::Ok,
                    detail: arn,
                    attempts: 1,
                    millis: started.elapsed().as_millis() as u64,
                }),
                Err(e) => {
                    report.steps.push(Step {
                        name,
                        outcome: StepOutcome::Failed,
                        detail: e.to_string(),
                        attempts: 1,
                        millis: started.elapsed().as_millis() as u64,
                    });
                    report.error = format!(
                        "The {phase} session's credentials did not work for GetCallerIdentity ({e})."
                    );
                    return report;
                }
            }
        }

        let started = Instant::now();
        let open = self
            .assume(&AssumeRequest {
                role,
                external_id: None,
                session_name: "deputy-verify-no-external-id",
                duration: Duration::from_secs(900),
                tags: &[],
                region,
            })
            .await;
        let millis = started.elapsed().as_millis() as u64;
        let name = "assume_role_without_external_id".to_string();
        match open {
            Err(e) if e.is_access_denied() => {
                report.steps.push(Step {
                    name,
                    outcome: StepOutcome::Denied,
                    detail: e.code,
                    attempts: 1,
                    millis,
                });
                report.ok = true;
            }
            Err(e) => {
                report.steps.push(Step {
                    name,
                    outcome: StepOutcome::Failed,
                    detail: e.to_string(),
                    attempts: 1,
                    millis,
                });
                report.error = format!(
                    "AssumeRole on {role} without an External ID failed in an unexpected way ({e})."
                );
            }
            Ok(_) => {
                report.steps.push(Step {
                    name,
                    outcome: StepOutcome::Failed,
                    detail: "assumed without an External ID".into(),
                    attempts: 1,
                    millis,
                });
                let ids: Vec<ExternalId> = external_ids.iter().map(|(_, id)| id.clone()).collect();
                report.error = format!(
                    "{role} can be assumed without an External ID: its trust policy lacks an \
                     sts:ExternalId condition, so anyone who can get deputy to name this role could \
                     use it (the confused-deputy problem). Replace the statement that trusts deputy \
                     with: {}",
                    statement_json(principal, &ids, actions)
                );
            }
        }
        report
    }

    async fn assume_with_retry(
        &self,
        role: &RoleArn,
        region: &str,
        phase: Phase,
        id: &ExternalId,
        retry: RetryPolicy,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> (Result<super::Credentials, StsError>, u32) {
        let started = Instant::now();
        let mut delay = retry.first_delay;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .assume(&AssumeRequest {
                    role,
                    external_id: Some(id),
                    session_name: &format!("deputy-verify-{phase}"),
                    duration: Duration::from_secs(900),
                    tags: &[],
                    region,
                })
                .await;
            match result {
                Err(e) if e.is_access_denied() && started.elapsed() + delay <= retry.budget => {
                    progress(&Progress {
                        phase,
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
