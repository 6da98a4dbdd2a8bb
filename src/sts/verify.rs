//! Running verification's probes against STS (the rule, the probes and how
//! to read their answers are `model::verification`): the confirmations
//! first, each retried on AccessDenied within one time budget (a new role
//! is not assumable for 10-30 s), then the role-level probes, once each and
//! several at a time. Every call is a step of the report with its outcome,
//! attempts and time.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use super::canary::Canary;
use super::{AssumeRequest, Credentials, Sts, StsError};
use crate::model::session_names as names;
use crate::model::trust_policy::{Accepted, Actions, statement_json};
use crate::model::verification::{
    Answer, Caller, Plan, Probe, STATEMENT_TO_USE, Subject, Targets, explain, found_scope, judge,
    plan, stale_trust,
};
use crate::model::{AccountName, Phase, PrincipalArn, RoleArn, StackId};
use crate::wire::{Integration, Step, StepOutcome, VerifyReport};

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

/// How many role-level probes are in flight at once: a verification of
/// two phases makes about 40 calls, which one at a time would make every
/// attach slower than it needs to be.
const CONCURRENT_PROBES: usize = 8;

/// The warning every report carries when no canary could be used.
pub const NO_CANARY: &str = "trusts the broker's principal only: not checked (no canary). A role \
     that trusts deputy's whole AWS account passes every other probe; configure a canary role \
     (deputy serve --canary-role-arn) so verification can tell";

/// What to verify: a role, how vends call it, and the probes.
pub struct VerifyRequest<'a> {
    pub role: &'a RoleArn,
    pub region: &'a str,
    /// The vend's duration (already capped when the broker runs on role
    /// credentials), so a role whose MaxSessionDuration is lower fails here.
    pub duration: Duration,
    /// Session policies of each phase's vends, passed by the probes of that
    /// phase, so a policy STS refuses fails here, not at a vend.
    pub read_session_policy_arns: &'a [String],
    pub write_session_policy_arns: &'a [String],
    pub plan: &'a Plan,
    /// The canary principal, for the probes that are its: without one the
    /// plan has none and the report says the check was not made.
    pub canary: Option<&'a Canary>,
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

/// What a verification of one integration derives before it runs, made
/// the same way by the broker and by a worker (`deputy verify
/// --as-worker`): the plan from the rule, the fingerprint of the
/// configuration, and what the role must accept.
pub struct Prepared<'a> {
    integration: &'a Integration,
    actions: Actions,
    plan: Plan,
    fingerprint: String,
    expected: Accepted,
}

impl<'a> Prepared<'a> {
    /// `integration` for `targets`, as vends of `account` will use it;
    /// `tag_session` says whether those vends pass session tags (a
    /// worker's never do), `canary` whether the canary's probes are
    /// planned.
    pub fn new(
        account: &AccountName,
        integration: &'a Integration,
        targets: &Targets,
        former: &[(StackId, Phase)],
        tag_session: bool,
        canary: bool,
    ) -> Prepared<'a> {
        let nonce = ulid::Ulid::new().to_string();
        let plan = plan(
            &Subject {
                account,
                integration: &integration.id,
                custom: integration.external_id.as_ref(),
                scope: integration.trust_scope,
                tag_session,
                set_source_identity: integration.set_source_identity,
                canary,
                former,
            },
            targets,
            &nonce[10..],
        );
        let expected = Accepted::for_stacks(
            integration.trust_scope,
            account,
            &integration.id,
            integration.external_id.as_ref(),
            targets,
        );
        Prepared {
            integration,
            actions: Actions {
                tag_session,
                set_source_identity: integration.set_source_identity,
            },
            plan,
            fingerprint: integration.vend_config().fingerprint(),
            expected,
        }
    }

    /// The statement a failure shows made for `stacks` rather than the
    /// targets probed: an attach probes the new stack alone, but the role
    /// must go on trusting the stacks attached before it.
    pub fn stating_for(mut self, account: &AccountName, stacks: &Targets) -> Prepared<'a> {
        self.expected = Accepted::for_stacks(
            self.integration.trust_scope,
            account,
            &self.integration.id,
            self.integration.external_id.as_ref(),
            stacks,
        );
        self
    }

    /// The request, run as `principal` (with `canary` for its probes) and
    /// sessions of `duration`, the vends' own.
    pub fn request(
        &'a self,
        duration: Duration,
        principal: &'a PrincipalArn,
        canary: Option<&'a Canary>,
        retry: RetryPolicy,
    ) -> VerifyRequest<'a> {
        let i = self.integration;
        VerifyRequest {
            role: &i.role_arn,
            region: i.region.as_str(),
            duration,
            read_session_policy_arns: &i.read_session_policy_arns,
            write_session_policy_arns: &i.write_session_policy_arns,
            plan: &self.plan,
            canary,
            config: &self.fingerprint,
            principal,
            actions: self.actions,
            expected: &self.expected,
            retry,
        }
    }
}

impl VerifyRequest<'_> {
    fn policies(&self, phase: Option<Phase>) -> &[String] {
        match phase {
            Some(Phase::Read) => self.read_session_policy_arns,
            Some(Phase::Write) => self.write_session_policy_arns,
            None => &[],
        }
    }
}

/// One verification's calls: what every probe shares.
struct Run<'a> {
    sts: &'a Sts,
    req: &'a VerifyRequest<'a>,
    /// The run's session name and SourceIdentity, from the plan's run id.
    session_name: String,
    source_identity: String,
    started: Instant,
    progress: &'a (dyn Fn(&Progress) + Send + Sync),
}

impl Run<'_> {
    /// Makes one probe's call (a confirmation's with retries, then
    /// GetCallerIdentity with the session) and judges the answer.
    async fn probe(&self, probe: &Probe) -> Done {
        let (req, sts) = (self.req, self.sts);
        let step_started = Instant::now();
        let canary = probe.caller == Caller::Canary;
        let call = AssumeRequest {
            role: req.role,
            external_id: probe.external_id.as_ref(),
            session_name: &self.session_name,
            // The canary's own session is a role session: AWS caps what it
            // assumes at one hour (role chaining). No trust policy
            // condition can see the duration, so the cap hides nothing.
            duration: if canary {
                req.duration.min(Duration::from_secs(3600))
            } else {
                req.duration
            },
            tags: &probe.tags,
            source_identity: probe
                .source_identity
                .then_some(self.source_identity.as_str()),
            policy_arns: req.policies(probe.session_policies),
            region: req.region,
        };
        let (result, attempts) = match (probe.confirming(), canary.then_some(req.canary)) {
            (true, _) => {
                sts.assume_with_retry(&call, &probe.name, req.retry, self.started, self.progress)
                    .await
            }
            (false, Some(Some(canary))) => (canary.assume(sts, &call).await, 1),
            (false, Some(None)) => (
                Err(StsError {
                    code: "NoCanary".into(),
                    message: "the plan has a canary probe but the broker has no canary".into(),
                }),
                0,
            ),
            (false, None) => (sts.assume(&call).await, 1),
        };
        let (answer, mut detail) = match &result {
            Ok(creds) => (Answer::Allowed, creds.assumed_role_arn.clone()),
            Err(e) if e.is_access_denied() => (Answer::Denied, e.code.clone()),
            Err(e) => (Answer::Error(e.to_string()), e.to_string()),
        };
        let mut verdict = judge(probe, &answer, req.role);
        // A confirmed session must also work: GetCallerIdentity with it.
        if let (true, Ok(creds), None) = (probe.confirming(), &result, &verdict)
            && let Err(e) = sts.caller_arn_as(creds, req.region).await
        {
            verdict = Some(format!(
                "the session from AssumeRole on {} did not work for GetCallerIdentity ({e})",
                req.role
            ));
            detail = e.to_string();
        }
        let outcome = match (&verdict, &answer) {
            (Some(_), _) => StepOutcome::Failed,
            (None, Answer::Denied) => StepOutcome::Denied,
            (None, _) => StepOutcome::Ok,
        };
        Done {
            step: Step {
                name: probe.name.clone(),
                outcome,
                detail,
                attempts,
                millis: step_started.elapsed().as_millis() as u64,
            },
            answer,
            verdict,
        }
    }
}

/// One probe's call and its verdict.
struct Done {
    step: Step,
    answer: Answer,
    verdict: Option<String>,
}

impl Sts {
    pub async fn verify(
        &self,
        req: &VerifyRequest<'_>,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> VerifyReport {
        let started = Instant::now();
        let probes = &req.plan.probes;
        let confirms = probes.iter().take_while(|p| p.confirming()).count();
        let run = Run {
            sts: self,
            req,
            session_name: names::session_name(&req.plan.run_id),
            source_identity: names::source_identity(&req.plan.run_id),
            started,
            progress,
        };
        let mut done = Vec::with_capacity(probes.len());
        // Confirmations one after another: they wait out a new role's
        // propagation, after which the rest need no retries.
        for probe in &probes[..confirms] {
            done.push(run.probe(probe).await);
        }
        // Boxed so the stream's item type names one lifetime: a closure
        // returning the bare future is not general enough for `Send`.
        let calls: Vec<Pin<Box<dyn Future<Output = Done> + Send + '_>>> = probes[confirms..]
            .iter()
            .map(|probe| {
                Box::pin(run.probe(probe)) as Pin<Box<dyn Future<Output = Done> + Send + '_>>
            })
            .collect();
        let rest: Vec<Done> = futures::stream::iter(calls)
            .buffered(CONCURRENT_PROBES)
            .collect()
            .await;
        done.extend(rest);
        let answers: Vec<(&Probe, Answer)> = probes
            .iter()
            .zip(&done)
            .map(|(p, d)| (p, d.answer.clone()))
            .collect();
        let failed: Vec<(&Probe, &Answer, String)> = probes
            .iter()
            .zip(&done)
            .filter_map(|(p, d)| d.verdict.clone().map(|v| (p, &d.answer, v)))
            .collect();
        let errors = explain(req.role, &failed);
        // The statement to use helps only when the trust policy answered
        // wrong; an STS error (a MaxSessionDuration below the integration's
        // duration, a missing tag permission) is fixed elsewhere.
        let trust_answered_wrong = done
            .iter()
            .any(|d| d.verdict.is_some() && !matches!(d.answer, Answer::Error(_)));
        let mut report = VerifyReport {
            role_arn: req.role.to_string(),
            ok: errors.is_empty(),
            error: String::new(),
            scope: Some(found_scope(&answers)),
            config: req.config.to_string(),
            sts_calls: done.iter().map(|d| d.step.attempts).sum::<u32>()
                + done
                    .iter()
                    .filter(|d| d.step.name.starts_with("confirm:") && d.answer == Answer::Allowed)
                    .count() as u32,
            millis: 0,
            warnings: Vec::new(),
            steps: done.into_iter().map(|d| d.step).collect(),
        };
        if req.canary.is_none() {
            report.warnings.push(NO_CANARY.to_string());
        }
        let statement = statement_json(req.principal, req.expected, req.actions);
        report.warnings.extend(
            answers
                .iter()
                .filter_map(|(probe, answer)| stale_trust(probe, answer, req.role, &statement)),
        );
        if !report.ok {
            report.error = errors.join(". Also: ") + ".";
            if trust_answered_wrong {
                report.error += &format!(" {STATEMENT_TO_USE}{statement}");
            }
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
