//! External IDs and trust policies: what a customer puts in a role's trust
//! policy so that deputy, and only deputy acting for the right stack and
//! phase, can assume it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::{AppState, Query, Route, parse, route};
use crate::api::{ExternalIds, Integration, TrustPolicy};
use crate::model::trust_policy::{Actions, document_json, statement_json};
use crate::model::{ExternalId, IntegrationId, Phase, StackId};

pub fn routes() -> Vec<Route> {
    vec![
        route(
            "/v1/integrations/{id}/external-ids",
            Method::GET,
            get(external_ids_route),
        ),
        route(
            "/v1/integrations/{id}/trust-policy",
            Method::GET,
            get(trust_policy),
        ),
    ]
}

/// The External ID of each phase: the integration's custom one in worker
/// mode, else the derived `<account>@<integration>@<stack>@<phase>`.
pub fn external_ids(
    state: &AppState,
    integration: &Integration,
    stack_id: &str,
    phases: &[Phase],
) -> ApiResult<BTreeMap<Phase, String>> {
    let integration_id: IntegrationId = parse("integration_id", &integration.id)?;
    let stack: StackId = parse("stack_id", stack_id)?;
    Ok(phases
        .iter()
        .map(|phase| {
            let id = match &integration.external_id {
                Some(custom) => custom.clone(),
                None => {
                    ExternalId::derive(&state.account, &integration_id, &stack, *phase).to_string()
                }
            };
            (*phase, id)
        })
        .collect())
}

pub fn actions(integration: &Integration) -> Actions {
    if integration.tag_session {
        Actions::AssumeRoleAndTagSession
    } else {
        Actions::AssumeRole
    }
}

fn to_ids(ids: impl IntoIterator<Item = String>) -> ApiResult<Vec<ExternalId>> {
    ids.into_iter()
        .map(|s| {
            s.parse()
                .map_err(|e: crate::model::Invalid| ApiError::Internal(e.0))
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalIdQuery {
    stack_id: String,
    /// Comma-separated; defaults to both.
    phases: Option<String>,
}

async fn external_ids_route(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ExternalIdQuery>,
) -> ApiResult<axum::Json<ExternalIds>> {
    let phases: Vec<Phase> = match &q.phases {
        None => Phase::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|p| parse::<Phase>("phases", p.trim()))
            .collect::<ApiResult<_>>()?,
    };
    if phases.is_empty() {
        return Err(ApiError::invalid(
            "phases",
            "phases is empty: use read, write or read,write",
        ));
    }
    let integration = state.store.integration(&id).await?;
    state.store.stack(&q.stack_id).await.map_err(|e| match e {
        ApiError::NotFound { .. } => {
            ApiError::invalid("stack_id", format!("stack {:?} does not exist", q.stack_id))
        }
        other => other,
    })?;
    let ids = external_ids(&state, &integration, &q.stack_id, &phases)?;
    let statement = statement_json(
        &state.principal,
        &to_ids(ids.values().cloned())?,
        actions(&integration),
    );
    Ok(axum::Json(ExternalIds {
        integration_id: integration.id,
        stack_id: q.stack_id,
        external_ids: ids,
        assume_role_policy_statement: statement,
    }))
}

async fn trust_policy(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TrustPolicy>> {
    let integration = state.store.integration(&id).await?;
    let mut all = Vec::new();
    for attachment in state.store.attachments_of_integration(&id).await? {
        all.extend(
            external_ids(
                &state,
                &integration,
                &attachment.stack_id,
                &attachment.phases(),
            )?
            .into_values(),
        );
    }
    let ids = to_ids(all.clone())?;
    let document = if ids.is_empty() {
        // IAM rejects a condition with an empty list; an integration with no
        // attachments trusts nobody.
        String::new()
    } else {
        document_json(&state.principal, &ids, actions(&integration))
    };
    Ok(axum::Json(TrustPolicy {
        integration_id: integration.id,
        principal_arn: state.principal.to_string(),
        external_ids: all,
        document,
    }))
}
