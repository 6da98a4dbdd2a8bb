//! External IDs, trust policies and role templates: what a customer puts
//! in a role's trust policy so that deputy, and only deputy acting for the
//! right stack and phase, can assume it, and the role itself as a
//! deployable definition.

use std::collections::BTreeMap;

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::{access, existing_stack, parse};
use crate::model::integration::TrustScope;
use crate::model::role_template::{
    Format, RoleTemplate, StateBackend, check_bucket_name, check_managed_policy_arn,
    check_table_name, quick_create_url,
};
use crate::model::space::Need;
use crate::model::trust_policy::{
    Accepted, check_length, document_json, integration_patterns, statement_json,
};
use crate::model::verification::Targets;
use crate::model::{ExternalId, Phase, StackId};
use crate::wire::{
    ExternalIdQuery, ExternalIds, Integration, ProblemCode, RoleTemplateDocument,
    RoleTemplateQuery, TrustPolicy,
};

/// The External ID of each phase: the integration's custom one in worker
/// mode, else the derived `<account>@<integration>@<stack>@<phase>`.
pub fn external_ids(
    state: &AppState,
    integration: &Integration,
    stack: &StackId,
    phases: &[Phase],
) -> BTreeMap<Phase, ExternalId> {
    phases
        .iter()
        .map(|phase| {
            let id = ExternalId::for_phase(
                &state.account,
                &integration.id,
                integration.external_id.as_ref(),
                stack,
                *phase,
            );
            (*phase, id)
        })
        .collect()
}

/// One stack's External IDs (for `q.phases`, default both) and the
/// statement that accepts them, whether the stack is attached or not: the
/// role must trust deputy before an attachment can be verified.
pub async fn for_stack(
    state: &AppState,
    caller: &Caller,
    id: &str,
    q: &ExternalIdQuery,
) -> ApiResult<ExternalIds> {
    let access = access::of(state, caller).await?;
    let phases: Vec<Phase> = match &q.phases {
        None => Phase::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|p| parse::<Phase>("phases", p.trim()))
            .collect::<ApiResult<_>>()?,
    };
    let integration = access.seen_integration(state, id).await?;
    let stack = existing_stack(state, "stack_id", &q.stack_id).await?;
    access
        .stack(state, Need::Read, stack.as_str())
        .await
        .map_err(|_| {
            ApiError::invalid("stack_id", format!("stack {:?} does not exist", q.stack_id))
        })?;
    let ids = external_ids(state, &integration, &stack, &phases);
    let accepted = accepted(state, &integration, &[(stack.clone(), phases)]);
    let statement = statement_json(&state.principal, &accepted, integration.trust_actions());
    let length = check_length(&statement, state.settings.max_trust_policy_length, 1)
        .map_err(|e| ApiError::conflict(ProblemCode::TrustPolicyTooLong, e.0))?;
    Ok(ExternalIds {
        integration_id: integration.id,
        stack_id: stack,
        external_ids: ids,
        assume_role_policy_statement: statement,
        length,
    })
}

/// What `integration`'s role must accept for `stacks`, in its scope.
pub fn accepted(
    state: &AppState,
    integration: &Integration,
    stacks: &[(StackId, Vec<Phase>)],
) -> Accepted {
    Accepted::for_stacks(
        integration.trust_scope,
        &state.account,
        &integration.id,
        integration.external_id.as_ref(),
        stacks,
    )
}

/// The trust policy `integration`'s role needs for `stacks`, refused with
/// both fixes when it is longer than the broker's limit.
pub fn trust_policy_for(
    state: &AppState,
    integration: &Integration,
    stacks: &[(StackId, Vec<Phase>)],
) -> ApiResult<TrustPolicy> {
    let accepted = accepted(state, integration, stacks);
    let document = if accepted.is_empty() {
        // IAM rejects a condition with an empty list; an integration with no
        // attachments trusts nobody.
        String::new()
    } else {
        document_json(&state.principal, &accepted, integration.trust_actions())
    };
    let length = check_length(
        &document,
        state.settings.max_trust_policy_length,
        stacks.len(),
    )
    .map_err(|e| ApiError::conflict(ProblemCode::TrustPolicyTooLong, e.0))?;
    Ok(TrustPolicy {
        integration_id: integration.id.clone(),
        principal_arn: state.principal.clone(),
        trust_scope: integration.trust_scope,
        external_ids: stacks
            .iter()
            .flat_map(|(stack, phases)| {
                external_ids(state, integration, stack, phases).into_values()
            })
            .collect(),
        accepted: accepted.values().into_iter().map(str::to_string).collect(),
        stacks: stacks.len(),
        document,
        length,
        max_length: state.settings.max_trust_policy_length,
    })
}

/// The trust policy over every attachment of integration `id`.
pub async fn of_integration(state: &AppState, caller: &Caller, id: &str) -> ApiResult<TrustPolicy> {
    let access = access::of(state, caller).await?;
    let integration = access.integration(state, Need::Read, id).await?;
    let stacks = state.store.attached(id).await?;
    trust_policy_for(state, &integration, &stacks)
}

/// The attached stacks of `integration` with each of `extra` (stack ids
/// that must exist) added for both phases: a role can be made, or
/// widened, before the attach that is verified against it.
pub async fn with_extra_stacks(
    state: &AppState,
    caller: &Caller,
    integration: &Integration,
    extra: &[String],
) -> ApiResult<Targets> {
    let access = access::of(state, caller).await?;
    let mut stacks = state.store.attached(integration.id.as_str()).await?;
    for text in extra {
        let stack = existing_stack(state, "stack_id", text).await?;
        // A stack out of the caller's sight is one that does not exist.
        access
            .stack(state, Need::Read, stack.as_str())
            .await
            .map_err(|_| ApiError::invalid("stack_id", format!("stack {text:?} does not exist")))?;
        if !stacks.iter().any(|(s, _)| *s == stack) {
            stacks.push((stack, Phase::ALL.to_vec()));
        }
    }
    Ok(stacks)
}

/// Integration `id`'s role as a deployable definition, with the trust
/// policy for its attachments (and `q.stack_id`) in its scope.
pub async fn role_template(
    state: &AppState,
    caller: &Caller,
    id: &str,
    q: RoleTemplateQuery,
) -> ApiResult<RoleTemplateDocument> {
    let access = access::of(state, caller).await?;
    let format: Format = match &q.format {
        Some(f) => parse("format", f)?,
        None => Format::CloudFormation,
    };
    let integration = access.integration(state, Need::Read, id).await?;
    let stacks = with_extra_stacks(state, caller, &integration, &q.stack_id).await?;
    let policy = trust_policy_for(state, &integration, &stacks)?;
    // Roles come before attachments (which are verified against them). An
    // integration-scoped role needs no stacks: it trusts both phases' patterns.
    let document = match (integration.trust_scope, policy.document.is_empty()) {
        (TrustScope::Integration, true) if integration.external_id.is_none() => document_json(
            &state.principal,
            &Accepted::Like(integration_patterns(
                &state.account,
                &integration.id,
                &Phase::ALL,
            )),
            integration.trust_actions(),
        ),
        (_, true) => {
            return Err(ApiError::invalid(
                "stack_id",
                format!(
                    "integration {id} has no attachments, so its stack-scoped role would trust nobody: \
                     name the stacks the role is for with stack_id (they are verified against it when \
                     attached), or use trust_scope = \"integration\""
                ),
            ));
        }
        (_, false) => policy.document,
    };
    for arn in &q.managed_policy_arn {
        check_managed_policy_arn(arn).map_err(|e| ApiError::invalid("managed_policy_arn", e.0))?;
    }
    if let Some(bucket) = &q.state_bucket {
        check_bucket_name(bucket).map_err(|e| ApiError::invalid("state_bucket", e.0))?;
    }
    if let Some(table) = &q.lock_table {
        check_table_name(table).map_err(|e| ApiError::invalid("lock_table", e.0))?;
    }
    let state_backend = match (q.state_bucket, q.lock_table) {
        (Some(bucket), lock_table) => Some(StateBackend { bucket, lock_table }),
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "lock_table",
                "lock_table needs state_bucket: name the S3 bucket for the state too",
            ));
        }
        (None, None) => None,
    };
    let description = format!(
        "Role deputy assumes for integration {} ({}), trust scope {}",
        integration.name, integration.id, integration.trust_scope
    );
    let template = RoleTemplate::new(
        &integration.role_arn,
        description,
        integration.duration_seconds,
        &document,
        q.managed_policy_arn,
        state_backend,
    )
    .map_err(|e| ApiError::Internal(format!("role template: {e}")))?;
    let quick_create_url = match (&q.template_url, format) {
        (None, _) => None,
        (Some(url), Format::CloudFormation) => Some(
            quick_create_url(
                &integration.role_arn,
                &integration.region,
                url,
                &format!("deputy-{}", integration.role_arn.name()),
            )
            .map_err(|e| ApiError::invalid("template_url", e.0))?,
        ),
        (Some(_), _) => {
            return Err(ApiError::invalid(
                "template_url",
                "template_url is for format=cloudformation: quick-create links open CloudFormation",
            ));
        }
    };
    Ok(RoleTemplateDocument {
        integration_id: integration.id.clone(),
        format: format.as_str().to_string(),
        file_name: format.file_name(integration.role_arn.name()),
        content: template.render(format),
        trust_policy_length: crate::model::trust_policy::iam_length(&document),
        quick_create_url,
    })
}
