//! Running a verification through the broker for the action and the data
//! source that report it: the report whether the role passed or not, and
//! the broker's explanation when it did not.

use super::connection::BrokerConnection;
use crate::client::ClientError;
use crate::wire::{Step, VerifyReport};
use tfplugin::diag::Diagnostics;

pub struct Outcome {
    pub report: VerifyReport,
    /// Why the role is not safe, with the fix; `None` when it passed.
    pub failure: Option<String>,
}

/// Verifies `integration` (for `stack`, or every attachment). A failed
/// verification is an outcome with its report; only a verification that
/// could not run (unknown integration, nothing attached, broker down) is an
/// error.
pub async fn run(
    broker: &BrokerConnection,
    integration: &str,
    stack: Option<&str>,
) -> Result<Outcome, Diagnostics> {
    match broker.client()?.verify(integration, stack).await {
        Ok(report) => Ok(Outcome {
            report,
            failure: None,
        }),
        Err(ClientError::Problem(p)) if p.report.is_some() => {
            let p = *p;
            Ok(Outcome {
                report: p.report.expect("checked by the guard"),
                failure: Some(p.detail),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// One probe as a line: its name, outcome, detail and cost.
pub fn step_line(step: &Step) -> String {
    format!(
        "{}: {} ({}; {} attempt(s), {} ms)",
        step.name, step.outcome, step.detail, step.attempts, step.millis
    )
}
