//! What verifying a role found: one step per STS call, each with its
//! outcome, and the fix when the role is not safe.

use serde::{Deserialize, Serialize};

use crate::model::integration::TrustScope;
use crate::model::verification::{Answer, Finding, finding};

/// How one probe went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    /// The call worked, as it must.
    Ok,
    /// STS refused, as it must for this probe.
    Denied,
    /// The probe did not go the way a safe role makes it go.
    Failed,
}

impl std::fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            StepOutcome::Ok => "ok",
            StepOutcome::Denied => "denied",
            StepOutcome::Failed => "failed",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub name: String,
    pub outcome: StepOutcome,
    /// The assumed-role ARN, or AWS's error code and message.
    pub detail: String,
    pub attempts: u32,
    pub millis: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub role_arn: String,
    pub ok: bool,
    /// Why verification failed, with the fix; empty when ok.
    pub error: String,
    /// The scope the probes found: `stack` (exact External IDs) or
    /// `integration` (any stack of this integration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TrustScope>,
    /// Fingerprint of the configuration verified (role, region, duration,
    /// session tags, source identity, scope); vends must match it.
    #[serde(default)]
    pub config: String,
    /// AssumeRole and GetCallerIdentity calls made, retries included.
    #[serde(default)]
    pub sts_calls: u32,
    /// Wall time of the whole verification.
    #[serde(default)]
    pub millis: u64,
    /// What the verification could not check, though it passed: without a
    /// canary, whether the role trusts deputy's principal rather than its
    /// whole AWS account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub steps: Vec<Step>,
}

impl VerifyReport {
    /// What a failed report found (see `model::verification::finding`),
    /// from each failed step's detail: the assumed-role ARN when STS let
    /// the call through, the bare code `AccessDenied` when it refused, an
    /// error's code and message otherwise.
    pub fn finding(&self) -> Finding {
        finding(
            self.steps
                .iter()
                .filter(|s| s.outcome == StepOutcome::Failed)
                .map(|s| {
                    let answer = if s.detail.starts_with("arn:") {
                        Answer::Allowed
                    } else if s.detail == "AccessDenied" {
                        Answer::Denied
                    } else {
                        Answer::Error(s.detail.clone())
                    };
                    (s.name.as_str(), answer)
                }),
        )
    }

    /// Whether the probe named `name` went as a safe role makes it go.
    pub fn passed(&self, name: &str) -> bool {
        self.steps
            .iter()
            .any(|s| s.name == name && s.outcome != StepOutcome::Failed)
    }
}

/// Whether an integration's current configuration may vend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationState {
    /// Its current configuration passed the role-level probes: attached
    /// phases confirmed under it may vend.
    Verified,
    /// The last verification failed: nothing vends until one passes.
    Failed,
    /// Its current configuration was never verified (new, changed while
    /// nothing was attached, or from before verification gated vends).
    Unverified,
}

impl VerificationState {
    /// The name the API uses (`verified`, `failed`, `unverified`).
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationState::Verified => "verified",
            VerificationState::Failed => "failed",
            VerificationState::Unverified => "unverified",
        }
    }

    pub fn of(verified: bool, last: Option<&VerifyReport>) -> VerificationState {
        match (verified, last) {
            (true, _) => VerificationState::Verified,
            (false, Some(report)) if !report.ok => VerificationState::Failed,
            _ => VerificationState::Unverified,
        }
    }
}

/// Query of `POST /v1/integrations/{id}/verify`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// Verify for this stack (attached or not) instead of every attachment.
    pub stack_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_wire_names() {
        for state in [
            VerificationState::Verified,
            VerificationState::Failed,
            VerificationState::Unverified,
        ] {
            let wire = serde_json::to_value(state).unwrap();
            assert_eq!(wire.as_str(), Some(state.as_str()));
        }
    }
}
