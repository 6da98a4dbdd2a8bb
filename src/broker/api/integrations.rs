//! `/v1/integrations`: AWS roles deputy assumes, and how.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::{AppState, Json, Query, Route, parse, route};
use crate::api::{Integration, IntegrationInput, Labels, List};
use crate::model::{ExternalId, IntegrationId, RoleArn};

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

/// STS accepts 900 s to 12 h; the role's own maximum may be lower, which
/// only AWS knows (verification reports it).
const DURATION: std::ops::RangeInclusive<i64> = 900..=43200;

fn validate(id: String, input: IntegrationInput) -> ApiResult<Integration> {
    let name = input.name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 128 characters",
        ));
    }
    let role: RoleArn = parse("role_arn", &input.role_arn)?;
    let region = input.region.unwrap_or_else(|| "us-east-1".into());
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.contains('-');
    if !region_ok {
        return Err(ApiError::invalid(
            "region",
            format!("{region:?} is not an AWS region name (for example \"eu-west-1\")"),
        ));
    }
    let duration = input.duration_seconds.unwrap_or(3600);
    if !DURATION.contains(&duration) {
        return Err(ApiError::invalid(
            "duration_seconds",
            format!("{duration} is outside 900..=43200 seconds (15 minutes to 12 hours)"),
        ));
    }
    if let Some(custom) = &input.external_id {
        if !input.generate_credentials_in_worker {
            return Err(ApiError::invalid(
                "external_id",
                "a custom external_id is only allowed with generate_credentials_in_worker = true; in \
                 broker mode deputy derives one External ID per stack and phase",
            ));
        }
        parse::<ExternalId>("external_id", custom)?;
    }
    check_labels(&input.labels)?;
    Ok(Integration {
        id,
        name: name.to_string(),
        role_arn: role.to_string(),
        region,
        duration_seconds: duration,
        generate_credentials_in_worker: input.generate_credentials_in_worker,
        external_id: input.external_id,
        tag_session: input.tag_session,
        labels: input.labels,
        space: input.space.unwrap_or_else(|| "root".into()),
        description: input.description,
        last_verified_at: None,
        last_verification: None,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

fn check_labels(labels: &Labels) -> ApiResult<()> {
    if labels.keys().any(|k| k.trim().is_empty()) {
        return Err(ApiError::invalid(
            "labels",
            "a label key is empty: use non-empty keys",
        ));
    }
    Ok(())
}

async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<(StatusCode, axum::Json<Integration>)> {
    let id = IntegrationId::generate().to_string();
    let target = format!("integration/{id}");
    state
        .audited(&caller, "integration.create", &target, async {
            let integration = validate(id.clone(), input)?;
            Ok((
                StatusCode::CREATED,
                axum::Json(state.store.create_integration(&integration).await?),
            ))
        })
        .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFilter {
    space: Option<String>,
    /// `key=value` pairs separated by commas; all must match.
    label: Option<String>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(filter): Query<ListFilter>,
) -> ApiResult<axum::Json<List<Integration>>> {
    let mut wanted = Labels::new();
    for pair in filter
        .label
        .iter()
        .flat_map(|l| l.split(','))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            ApiError::Malformed(format!(
                "label filter {pair:?} is not key=value (for example label=team=network)"
            ))
        })?;
        wanted.insert(k.to_string(), v.to_string());
    }
    let items = state
        .store
        .integrations()
        .await?
        .into_iter()
        .filter(|i| filter.space.as_ref().is_none_or(|s| *s == i.space))
        .filter(|i| wanted.iter().all(|(k, v)| i.labels.get(k) == Some(v)))
        .collect();
    Ok(axum::Json(List { items }))
}

async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(state.store.integration(&id).await?))
}

async fn by_name(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Integration>> {
    Ok(axum::Json(state.store.integration_by_name(&name).await?))
}

async fn replace(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<IntegrationInput>,
) -> ApiResult<axum::Json<Integration>> {
    state
        .audited(
            &caller,
            "integration.update",
            &format!("integration/{id}"),
            async {
                let integration = validate(id.clone(), input)?;
                Ok(axum::Json(
                    state.store.replace_integration(&integration).await?,
                ))
            },
        )
        .await
}

async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .audited(
            &caller,
            "integration.delete",
            &format!("integration/{id}"),
            async {
                state.store.delete_integration(&id).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
