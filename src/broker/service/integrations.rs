//! AWS integrations: the roles deputy assumes, and how. A change to a
//! trust-relevant field waits for its verification (see `verification`).

use std::sync::Arc;

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::super::store::{Page, Reverified};
use super::access;
use super::idempotency::{Created, Request, create_once};
use super::trust_policies::trust_policy_for;
use super::verification::{detached, pending, phase_results, verify};
use super::{audited, page, parse, refused};
use crate::model::integration::{
    TrustScope, check_session_policy_arns, check_trust_scope, custom_external_id,
};
use crate::model::names::check_labels;
use crate::model::space::Need;
use crate::model::{IntegrationId, Name, Region, RoleArn, SessionDuration, SpaceId};
use crate::wire::{
    AuditEvent, Integration, IntegrationFilter, IntegrationInput, Labels, List, ProblemCode,
    VerificationState,
};

/// Checks every field through `model`, so the provider (which calls the
/// same rules at plan) refuses exactly what is refused here. `space` is
/// the one the caller may use.
fn validate(id: IntegrationId, input: IntegrationInput, space: SpaceId) -> ApiResult<Integration> {
    let name: Name = parse("name", &input.name)?;
    let role: RoleArn = parse("role_arn", &input.role_arn)?;
    let region = match &input.region {
        Some(r) => parse::<Region>("region", r)?,
        None => Region::default(),
    };
    let duration = match input.duration_seconds {
        Some(d) => {
            SessionDuration::new(d).map_err(|e| ApiError::invalid("duration_seconds", e.0))?
        }
        None => SessionDuration::DEFAULT,
    };
    let external_id = input
        .external_id
        .as_deref()
        .map(|custom| custom_external_id(input.generate_credentials_in_worker, custom))
        .transpose()
        .map_err(|e| ApiError::invalid("external_id", e.0))?;
    let trust_scope = match &input.trust_scope {
        Some(s) => parse::<TrustScope>("trust_scope", s)?,
        None => TrustScope::default(),
    };
    check_trust_scope(trust_scope, external_id.is_some())
        .map_err(|e| ApiError::invalid("trust_scope", e.0))?;
    check_labels(input.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid("labels", e.0))?;
    check_session_policy_arns(&input.read_session_policy_arns)
        .map_err(|e| ApiError::invalid("read_session_policy_arns", e.0))?;
    check_session_policy_arns(&input.write_session_policy_arns)
        .map_err(|e| ApiError::invalid("write_session_policy_arns", e.0))?;
    Ok(Integration {
        id,
        name: name.to_string(),
        role_arn: role,
        region,
        duration_seconds: duration.seconds(),
        generate_credentials_in_worker: input.generate_credentials_in_worker,
        external_id,
        tag_session: input.tag_session,
        set_source_identity: input.set_source_identity,
        trust_scope,
        read_session_policy_arns: input.read_session_policy_arns,
        write_session_policy_arns: input.write_session_policy_arns,
        labels: input.labels,
        space: space.to_string(),
        description: input.description,
        last_verified_at: None,
        last_verification: None,
        verification_state: VerificationState::Unverified,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: IntegrationInput,
    once: Option<&Request>,
) -> ApiResult<Created<Integration>> {
    let id = IntegrationId::generate();
    let target = format!("integration/{id}");
    let create = || {
        audited(
            state,
            caller,
            crate::model::audit::INTEGRATION_CREATE,
            &target,
            |audit| async move {
                let access = access::of(state, caller).await?;
                let space = access.space_for_new(Need::Admin, input.space.as_deref(), "space")?;
                let integration = validate(id, input, space)?;
                let record = once.map(|r| r.once(&audit.target, None));
                state
                    .store
                    .create_integration(&integration, &audit, record.as_ref())
                    .await
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        read(state, caller, earlier.id("integration")?).await
    })
    .await
}

/// Integrations the caller sees (its subtree's and those its space's
/// stacks may use) by name, a page at a time, keeping those in `filter`'s
/// space and carrying all of its labels (`key=value`).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: &IntegrationFilter,
) -> ApiResult<List<Integration>> {
    let access = access::of(state, caller).await?;
    let seen = access.integration_spaces();
    // `space` takes the subtree below it, as the other lists do.
    let below = match &filter.space {
        Some(space) => access.below(Some(space), "space")?,
        None => None,
    };
    let mut wanted = Labels::new();
    for pair in &filter.label {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            ApiError::Malformed(format!(
                "label filter {pair:?} is not key=value (for example label=team=network)"
            ))
        })?;
        wanted.insert(k.to_string(), v.to_string());
    }
    // Filters apply to the rows the store pages through: batches are read
    // until the page holds `limit` matches (and one more, to know another
    // page follows) or the integrations run out.
    let page = page::page(filter.limit, filter.cursor.as_deref(), 1)?;
    let wanted_rows = usize::try_from(page.fetch()).unwrap_or(usize::MAX);
    let batch_size = page::MAX_LIMIT as usize;
    let mut after = page.after.clone();
    let mut items = Vec::new();
    loop {
        let batch = Page {
            after,
            limit: page::MAX_LIMIT,
            spaces: seen.clone(),
        };
        let mut rows = state.store.integrations(&batch).await?;
        let more = rows.len() > batch_size;
        rows.truncate(batch_size);
        after = rows.last().map(|i| vec![i.name.to_string()]);
        items.extend(
            rows.into_iter()
                .filter(|i| below.as_ref().is_none_or(|b| b.contains(&i.space)))
                .filter(|i| wanted.iter().all(|(k, v)| i.labels.get(k) == Some(v)))
                .map(|i| access.shown(i)),
        );
        if !more || items.len() >= wanted_rows {
            break;
        }
    }
    items.truncate(wanted_rows);
    Ok(page::list(items, &page, |i| vec![i.name.to_string()]))
}

pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Integration> {
    let access = access::of(state, caller).await?;
    access.seen_integration(state, id).await
}

pub async fn by_name(state: &AppState, caller: &Caller, name: &str) -> ApiResult<Integration> {
    let access = access::of(state, caller).await?;
    let integration = state.store.integration_by_name(name).await?;
    access
        .sees_integration(&integration.space, name)
        .map_err(|_| ApiError::not_found("integration named", name))?;
    Ok(access.shown(integration))
}

/// Replaces integration `id`; see [`replace_verified`] for when that
/// waits for a verification.
pub async fn replace(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    input: IntegrationInput,
) -> ApiResult<Integration> {
    let target = format!("integration/{id}");
    let event = AuditEvent::new(
        Some(caller.key_id()),
        crate::model::audit::INTEGRATION_UPDATE,
        &target,
    );
    match replace_verified(state.clone(), caller, id, input, event.clone()).await {
        Ok(integration) => Ok(integration),
        // A failed verification was audited by the detached task itself.
        Err(
            e @ ApiError::Conflict {
                code: ProblemCode::VerificationFailed,
                ..
            },
        ) => Err(e),
        Err(e) => Err(refused(state, event, e).await),
    }
}

/// A change to a trust-relevant field takes effect only once the new
/// configuration is verified for every attached phase; anything else is
/// written at once.
async fn replace_verified(
    state: Arc<AppState>,
    caller: &Caller,
    id: &str,
    input: IntegrationInput,
    audit: AuditEvent,
) -> ApiResult<Integration> {
    let parsed: IntegrationId = id
        .parse()
        .map_err(|_| ApiError::not_found("integration", id))?;
    let access = access::of(&state, caller).await?;
    let before = access.integration(&state, Need::Admin, id).await?;
    // Where it goes, the caller must administer too.
    let space = match input.space.as_deref() {
        Some(s) if s != before.space => access.space_for_new(Need::Admin, Some(s), "space")?,
        _ => parse("space", &before.space)?,
    };
    let integration = validate(parsed, input, space)?;
    if integration.vend_config() == before.vend_config() {
        return state
            .store
            .replace_integration(&integration, Reverified::Unchanged, &audit)
            .await;
    }
    let targets = state.store.attached(id).await?;
    // Going back to stack scope with many attachments can need a policy
    // IAM would refuse: say so before verifying a role that cannot exist.
    trust_policy_for(&state, &integration, &targets)?;
    if targets.is_empty()
        || integration.generate_credentials_in_worker
        || !state.settings.verify_on_attach
    {
        // Nothing to confirm (or no broker-side verification): the new
        // configuration vends nothing until a verification passes.
        return state
            .store
            .replace_integration(&integration, Reverified::Unverified, &audit)
            .await;
    }
    let change = pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    detached(state, change, async move {
        let report = verify(&task_state, &integration, &targets, &targets, &[]).await;
        if !report.ok {
            let e = ApiError::verification_failed(report);
            return Err(refused(&task_state, audit, e).await);
        }
        let confirmed: Vec<_> = phase_results(&report, &targets)
            .into_iter()
            .filter_map(|(stack, phase, ok)| ok.then_some((stack, phase)))
            .collect();
        task_state
            .store
            .replace_integration(
                &integration,
                Reverified::Verified {
                    report: &report,
                    confirmed: &confirmed,
                },
                &audit,
            )
            .await
    })
    .await
}

pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let target = format!("integration/{id}");
    audited(
        state,
        caller,
        crate::model::audit::INTEGRATION_DELETE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            access.integration(state, Need::Admin, id).await?;
            state.store.delete_integration(id, &audit).await
        },
    )
    .await
}
