//! Data sources, one file each.

mod account;
mod aws_integration;
mod aws_integration_attachment;
mod aws_integration_attachment_external_id;
mod aws_integration_role_template;
mod aws_integration_trust_policy;
mod aws_integration_verification;
mod aws_integrations;
mod space;
mod stack;
mod trust_policy_document;

pub use account::AccountDataSource;
pub use aws_integration::AwsIntegrationDataSource;
pub use aws_integration_attachment::AwsIntegrationAttachmentDataSource;
pub use aws_integration_attachment_external_id::AttachmentExternalIdDataSource;
pub use aws_integration_role_template::AwsIntegrationRoleTemplateDataSource;
pub use aws_integration_trust_policy::AwsIntegrationTrustPolicyDataSource;
pub use aws_integration_verification::AwsIntegrationVerificationDataSource;
pub use aws_integrations::AwsIntegrationsDataSource;
pub use space::SpaceDataSource;
pub use stack::StackDataSource;
pub use trust_policy_document::TrustPolicyDocumentDataSource;

use super::connection::BrokerConnection;
use crate::model::trust_policy::{Accepted, Actions, check_length};
use crate::model::{ExternalId, Phase, PrincipalArn, StackId};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};

/// External IDs for stacks and phases of one integration, with what a
/// statement needs. Uses the broker's cached account and integration; a
/// stack the broker does not have yet is a warning, not an error, since its
/// External IDs do not depend on it existing.
struct Built {
    principal: PrincipalArn,
    actions: Actions,
    ids: Vec<(String, Phase, ExternalId)>,
    /// What the role must accept, in the integration's trust scope.
    accepted: Accepted,
    /// The least `MaxSessionDuration` the role may have: the integration's
    /// session length, or IAM's floor.
    max_session_duration: i64,
}

async fn external_ids(
    broker: &BrokerConnection,
    integration_id: &str,
    stacks: &[(&str, AttributePath)],
    phases: &[Phase],
    warnings: &mut Diagnostics,
) -> Result<Built, Diagnostics> {
    let account = broker.account().await?;
    let integration = broker
        .integration(integration_id, &AttributePath::attr("integration_id"))
        .await?;
    warnings.extend(broker.missing_stacks(stacks).await?);
    let mut ids = Vec::with_capacity(stacks.len() * phases.len());
    let mut parsed = Vec::with_capacity(stacks.len());
    for (stack, path) in stacks {
        let stack_id: StackId = stack.parse().map_err(|e: crate::model::Invalid| {
            Diagnostics::from(Diagnostic::error("Invalid stack id", e.0).at(path.clone()))
        })?;
        for phase in phases {
            let id = ExternalId::for_phase(
                &account.name,
                &integration.id,
                integration.external_id.as_ref(),
                &stack_id,
                *phase,
            );
            ids.push((stack.to_string(), *phase, id));
        }
        parsed.push((stack_id, phases.to_vec()));
    }
    let accepted = Accepted::for_stacks(
        integration.trust_scope,
        &account.name,
        &integration.id,
        integration.external_id.as_ref(),
        &parsed,
    );
    Ok(Built {
        principal: account.aws_principal_arn.clone(),
        actions: integration.trust_actions(),
        ids,
        accepted,
        max_session_duration: least_max_session_duration(integration.duration_seconds),
    })
}

/// IAM's smallest `MaxSessionDuration`: every role allows at least an hour.
const IAM_MIN_MAX_SESSION_DURATION: i64 = 3600;

/// The least `MaxSessionDuration` a role serving sessions of `duration`
/// seconds may have. A lower one makes every AssumeRole fail, which the
/// broker can only find out when it assumes the role (at attach); a role
/// built from this value cannot have that fault.
fn least_max_session_duration(duration: i64) -> i64 {
    duration.max(IAM_MIN_MAX_SESSION_DURATION)
}

/// `json`'s length as IAM counts it, or an error on `path` (the input that
/// made it long) when it is over the provider's `max_trust_policy_length`.
fn checked_length(
    json: &str,
    limit: usize,
    stacks: usize,
    path: AttributePath,
) -> Result<i64, Diagnostics> {
    check_length(json, limit, stacks)
        .map(|n| n as i64)
        .map_err(|e| {
            Diagnostics::from(Diagnostic::error("Trust policy too long for IAM", e.0).at(path))
        })
}
