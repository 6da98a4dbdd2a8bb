//! `/v1/integrations`: AWS roles deputy assumes, and how.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::store::{Page, Reverified};
use super::super::verification;
use super::openapi;
use super::{AppState, Json, Path, Route, audit_event, page, parse, route, trust};
use crate::api::{
    AuditEvent, Integration, IntegrationFilter, IntegrationInput, Labels, List, ProblemCode,
    VerificationState,
};
use crate::model::integration::{
    TrustScope, check_session_policy_arns, check_trust_scope, custom_external_id,
};
use crate::model::names::check_labels;
use crate::model::{IntegrationId, Name, Region, RoleArn, SessionDuration, Space};

pub fn routes() -> Vec<Route> {
    vec![
        route("/v1/integrations", Method::GET, get(list)),
        route("/v1/integrations", Method::POST, post(create)),
        route("/v1/integrations/by-name/{name}", Method::GET, get(by_name)),
        route("/v1/integrations/{id}", Method::GET, get(read)),
        route("/v1/integrations/{id}", Method::PUT, put(replace)),
        route("/v1/integrations/{id}", Method::DELETE, delete(remove)),
    ]
}

/// Checks every field through `model`, so the provider (which calls the
/// same rules at plan) refuses exactly what is refused here.
fn validate(id: IntegrationId, input: IntegrationInput) -> ApiResult<Integration> {
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
    let space: Space = match &input.space {
        Some(s) => parse("space", s)?,
        None => Space::default(),
    };
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

#[utoipa::path(
    operation_id = "integrations_create",
    post, path = "/v1/integrations", tag = "integrations", request_body = IntegrationInput,
    responses((status = 201, description = "Created.", body = Integration), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<(StatusCode, axum::Json<Integration>)> {
    let id = IntegrationId::generate();
    let target = format!("integration/{id}");
    let state: &AppState = &state;
    state
        .audited(&caller, "integration.create", &target, |audit| async move {
            let integration = validate(id, input)?;
            Ok((
                StatusCode::CREATED,
                axum::Json(state.store.create_integration(&integration, &audit).await?),
            ))
        })
        .await
}

/// Reads `?space=S&label=k=v&label=...` by hand: repeated keys are how a
/// list of labels travels, and a value may hold `,`, `=` or `&` (encoded).
fn filter(query: Option<&str>) -> ApiResult<IntegrationFilter> {
    let mut filter = IntegrationFilter::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "space" => filter.space = Some(value.into_owned()),
            "label" => filter.label.push(value.into_owned()),
            "cursor" => filter.cursor = Some(value.into_owned()),
            "limit" => {
                filter.limit = Some(value.parse().map_err(|_| {
                    ApiError::invalid("limit", format!("limit is {value:?}: use a whole number"))
                })?);
            }
            other => {
                return Err(ApiError::Malformed(format!(
                    "unknown query parameter {other:?}: use space, label, limit and cursor"
                )));
            }
        }
    }
    Ok(filter)
}

#[utoipa::path(
    operation_id = "integrations_list",
    get, path = "/v1/integrations", tag = "integrations", params(IntegrationFilter),
    responses((status = 200, description = "Matching integrations, by name, a page at a time.", body = List<Integration>), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::Invalid),
)]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> ApiResult<axum::Json<List<Integration>>> {
    let filter = filter(query.as_deref())?;
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
        };
        let mut rows = state.store.integrations(&batch).await?;
        let more = rows.len() > batch_size;
        rows.truncate(batch_size);
        after = rows.last().map(|i| vec![i.name.to_string()]);
        items.extend(
            rows.into_iter()
                .filter(|i| filter.space.as_ref().is_none_or(|s| *s == i.space))
                .filter(|i| wanted.iter().all(|(k, v)| i.labels.get(k) == Some(v))),
        );
        if !more || items.len() >= wanted_rows {
            break;
        }
    }
    items.truncate(wanted_rows);
    Ok(axum::Json(page::list(items, &page, |i| {
        vec![i.name.to_string()]
    })))
}

#[utoipa::path(
    operation_id = "integrations_read",
    get, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 200, description = "The integration.", body = Integration), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
pub(crate) async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(state.store.integration(&id).await?))
}

#[utoipa::path(
    operation_id = "integrations_by_name",
    get, path = "/v1/integrations/by-name/{name}", tag = "integrations", params(("name" = String, Path, description = "The integration's unique name.")),
    responses((status = 200, description = "The integration.", body = Integration), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
async fn by_name(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(state.store.integration_by_name(&name).await?))
}

#[utoipa::path(
    operation_id = "integrations_replace",
    put, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")), request_body = IntegrationInput,
    responses((status = 200, description = "Replaced.", body = Integration), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
pub(crate) async fn replace(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<axum::Json<Integration>> {
    let target = format!("integration/{id}");
    let event = audit_event(Some(caller.key_id()), "integration.update", &target);
    match replace_verified(state.clone(), &id, input, event.clone()).await {
        Ok(integration) => Ok(axum::Json(integration)),
        // A failed verification was audited by the detached task itself.
        Err(
            e @ ApiError::Conflict {
                code: ProblemCode::VerificationFailed,
                ..
            },
        ) => Err(e),
        Err(e) => Err(state.refused(event, e).await),
    }
}

/// A change to a trust-relevant field takes effect only once the new
/// configuration is verified for every attached phase; anything else is
/// written at once.
async fn replace_verified(
    state: Arc<AppState>,
    id: &str,
    input: IntegrationInput,
    audit: AuditEvent,
) -> ApiResult<Integration> {
    let parsed: IntegrationId = id
        .parse()
        .map_err(|_| ApiError::not_found("integration", id))?;
    let before = state.store.integration(id).await?;
    let integration = validate(parsed, input)?;
    if integration.vend_config() == before.vend_config() {
        return state
            .store
            .replace_integration(&integration, Reverified::Unchanged, &audit)
            .await;
    }
    let targets = verification::attached(&state, id).await?;
    // Going back to stack scope with many attachments can need a policy
    // IAM would refuse: say so before verifying a role that cannot exist.
    trust::trust_policy_for(&state, &integration, &targets)?;
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
    let pending = verification::pending(&audit.action, &audit.target, audit.key_id.as_deref());
    let task_state = state.clone();
    verification::detached(state, pending, async move {
        let report = verification::verify(&task_state, &integration, &targets).await;
        if !report.ok {
            let e = ApiError::verification_failed(report);
            return Err(task_state.refused(audit, e).await);
        }
        let confirmed: Vec<_> = verification::phase_results(&report, &targets)
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

#[utoipa::path(
    operation_id = "integrations_remove",
    delete, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 204, description = "Deleted."), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict),
)]
pub(crate) async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let state: &AppState = &state;
    state
        .audited(
            &caller,
            "integration.delete",
            &format!("integration/{id}"),
            |audit| async move {
                state.store.delete_integration(&id, &audit).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
