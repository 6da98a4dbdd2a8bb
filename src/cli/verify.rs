//! `deputy verify`: asks the broker to verify one integration (printing
//! every probe) or all of them (one line each), and exits 1 when a role is
//! not safe.

use crate::api::{ProblemCode, StepOutcome, VerificationState, VerifyReport};
use crate::client::{Client, ClientError};

fn print_steps(report: &VerifyReport) {
    for step in &report.steps {
        println!(
            "{:<40} {:<7} {} ({} attempt(s), {} ms)",
            step.name, step.outcome, step.detail, step.attempts, step.millis
        );
    }
}

/// One integration, every probe printed.
pub async fn one(client: &Client, integration: &str, stack: Option<&str>) -> anyhow::Result<i32> {
    match client.verify(integration, stack).await {
        Ok(report) => {
            print_steps(&report);
            println!(
                "{} is safe to use ({} STS calls, {} ms)",
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
                Ok(report) => format!(
                    "verified ({} STS calls, {} ms)",
                    report.sts_calls, report.millis
                ),
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
