//! `deputy verify`: asks the broker to verify one integration (printing
//! every probe) or all of them (one line each), or, for a worker-mode
//! integration, runs the broker's probe plan here with the worker's own
//! identity and records the report; exits 1 when a role is not safe.

use std::time::Duration;

use super::output::visible;
use crate::client::{Client, ClientError};
use crate::model::{Phase, PrincipalArn, StackId};
use crate::sts::{Prepared, RetryPolicy, Sts, identity};
use crate::wire::{ProblemCode, StepOutcome, VerificationState, VerifyReport};

fn print_steps(report: &VerifyReport) {
    for step in &report.steps {
        println!(
            "{:<40} {:<7} {} ({} attempt(s), {} ms)",
            visible(&step.name),
            step.outcome,
            visible(&step.detail),
            step.attempts,
            step.millis
        );
    }
    for warning in &report.warnings {
        eprintln!("deputy: warning: {}", visible(warning));
    }
}

/// The integration `given` names (by id or name, as everywhere an
/// integration is named), verified by the broker or, `as_worker`, here.
pub async fn named(
    client: &Client,
    given: &str,
    stack: Option<&str>,
    as_worker: bool,
) -> anyhow::Result<i32> {
    let integration = super::integration::resolve_id(client, given).await?;
    if as_worker {
        return self::as_worker(client, &integration).await;
    }
    one(client, &integration, stack).await
}

/// One integration, every probe printed.
pub async fn one(client: &Client, integration: &str, stack: Option<&str>) -> anyhow::Result<i32> {
    match client.verify(integration, stack).await {
        Ok(report) => {
            print_steps(&report);
            let warned = match report.warnings.len() {
                0 => String::new(),
                n => format!(", with {n} warning(s) above"),
            };
            println!(
                "{} is safe to use for the stacks attached ({} STS calls, {} ms){warned}",
                report.role_arn, report.sts_calls, report.millis
            );
            Ok(0)
        }
        Err(ClientError::Problem(p)) if p.report.is_some() => {
            if let Some(report) = &p.report {
                print_steps(report);
            }
            eprintln!("deputy: verification failed: {}", p.detail);
            Ok(1)
        }
        Err(e) => {
            eprintln!("deputy: verification failed: {e}");
            Ok(1)
        }
    }
}

/// Every integration: broker-mode ones with attachments are verified, the
/// others are listed with why they were not.
pub async fn all(client: &Client) -> anyhow::Result<i32> {
    let mut failed = 0;
    let integrations = client.integrations(None, &Default::default()).await?;
    for i in &integrations {
        let outcome = if i.generate_credentials_in_worker {
            "skipped: worker mode (workers assume the role with their own identity)".to_string()
        } else {
            match client.verify(&i.id, None).await {
                Ok(report) => {
                    for warning in &report.warnings {
                        eprintln!("deputy: warning: {}: {}", i.id, visible(warning));
                    }
                    format!(
                        "verified ({} STS calls, {} ms){}",
                        report.sts_calls,
                        report.millis,
                        match report.warnings.len() {
                            0 => String::new(),
                            n => format!("; {n} warning(s)"),
                        }
                    )
                }
                Err(e) if e.code() == Some(ProblemCode::NothingToVerify) => {
                    "skipped: nothing attached".to_string()
                }
                Err(ClientError::Problem(p)) => {
                    failed += 1;
                    let probe = p
                        .report
                        .as_ref()
                        .and_then(|r| r.steps.iter().find(|s| s.outcome == StepOutcome::Failed))
                        .map(|s| format!(" ({})", s.name))
                        .unwrap_or_default();
                    format!("FAILED{probe}: {}", p.detail)
                }
                Err(e) => return Err(e.into()),
            }
        };
        println!("{:<28} {:<32} {outcome}", i.id, i.name);
    }
    let unverified = integrations
        .iter()
        .filter(|i| {
            i.verification_state != VerificationState::Verified && !i.generate_credentials_in_worker
        })
        .count();
    println!(
        "{} integration(s), {failed} failed verification, {unverified} not vending before this run",
        integrations.len()
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// A worker-mode integration, verified with this machine's AWS identity.
pub async fn as_worker(client: &Client, id: &str) -> anyhow::Result<i32> {
    let account = client.account().await?;
    let integration = client.integration(id).await?;
    if !integration.generate_credentials_in_worker {
        anyhow::bail!(
            "integration {id} is in broker mode: the broker verifies it itself; run `deputy verify \
             --integration {id}` without --as-worker"
        );
    }
    let targets: Vec<(StackId, Vec<Phase>)> = client
        .attachments_of_integration(id)
        .await?
        .into_iter()
        .map(|a| {
            let phases = Phase::from_flags(a.read, a.write);
            (a.stack_id, phases)
        })
        .collect();
    if targets.is_empty() {
        anyhow::bail!("integration {id} has no attachments: attach a stack first");
    }
    // A worker assumes with its own identity; the broker's canary is not
    // its to use, so the report says that check was not made. `deputy
    // exec` on a worker passes no session tags.
    // A worker is not told which stacks were attached once: stale trust is
    // probed where the broker verifies (stack scope, derived IDs), and a
    // worker-mode integration has one custom External ID for every stack.
    let prepared = Prepared::new(&account.name, &integration, &targets, &[], false, false);
    let sts = Sts::load(std::env::var("DEPUTY_AWS_ENDPOINT_URL").ok().as_deref()).await;
    let caller = sts.caller_arn().await.map_err(|e| {
        anyhow::anyhow!("cannot read this worker's AWS identity ({e}): configure AWS credentials")
    })?;
    let principal: PrincipalArn = identity::principal_from_caller(&caller)
        .parse()
        .map_err(|e: crate::model::Invalid| anyhow::anyhow!(e.0))?;
    let report = sts
        .verify(
            &prepared.request(
                Duration::from_secs(integration.duration_seconds as u64),
                &principal,
                None,
                RetryPolicy::default(),
            ),
            &|p| {
                eprintln!(
                    "deputy: {} not assumable yet (AccessDenied); retrying in {} s",
                    p.probe,
                    p.next_delay.as_secs()
                )
            },
        )
        .await;
    print_steps(&report);
    match client.record_worker_verification(id, &report).await {
        Ok(_) => {
            println!(
                "{} is safe for workers as {principal} ({} STS calls, {} ms); recorded",
                report.role_arn, report.sts_calls, report.millis
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("deputy: verification failed: {e}");
            Ok(1)
        }
    }
}
