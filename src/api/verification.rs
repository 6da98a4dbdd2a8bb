//! What verifying a role found: one step per STS call, each with its
//! outcome, and the fix when the role is not safe.

use serde::{Deserialize, Serialize};

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
    pub steps: Vec<Step>,
}

/// Query of `POST /v1/integrations/{id}/verify`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// Verify for this stack (attached or not) instead of every attachment.
    pub stack_id: Option<String>,
}
