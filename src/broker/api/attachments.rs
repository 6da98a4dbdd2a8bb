//! `/v1/integrations/{id}/attachments` and `/v1/stacks/{id}/attachments`:
//! which stacks use an integration, for which phases.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::store::attachments::AttachmentRecord;
use super::{AppState, Json, Route, route, trust, verify};
use crate::api::{Attachment, AttachmentInput, AttachmentUpdate, Integration, List};

pub fn routes() -> Vec<Route> {
    vec![
        route(
            "/v1/integrations/{id}/attachments",
            Method::GET,
            get(of_integration),
        ),
        route(
            "/v1/integrations/{id}/attachments",
            Method::POST,
            post(create),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::GET,
            get(read),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::PUT,
            put(update),
        ),
        route(
            "/v1/integrations/{id}/attachments/{stack_id}",
            Method::DELETE,
            delete(remove),
        ),
        route("/v1/stacks/{id}/attachments", Method::GET, get(of_stack)),
    ]
}

/// Adds the External IDs, which depend on the account and the integration.
async fn present(state: &AppState, records: Vec<AttachmentRecord>) -> ApiResult<Vec<Attachment>> {
    let mut out = Vec::with_capacity(records.len());
    let mut integration: Option<Integration> = None;
    for r in records {
        if integration
            .as_ref()
            .is_none_or(|i| i.id != r.integration_id)
        {
            integration = Some(state.store.integration(r.integration_id.as_str()).await?);
        }
        let i = integration.as_ref().expect("set above");
        out.push(Attachment {
            id: format!("{}/{}", r.integration_id, r.stack_id),
            external_ids: trust::external_ids(state, i, &r.stack_id, &r.phases()),
            integration_id: r.integration_id,
            stack_id: r.stack_id,
            read: r.read,
            write: r.write,
            created_at: r.created_at,
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}

async fn one(state: &AppState, record: AttachmentRecord) -> ApiResult<Attachment> {
    Ok(present(state, vec![record]).await?.remove(0))
}

async fn create(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    Json(input): Json<AttachmentInput>,
) -> ApiResult<(StatusCode, axum::Json<Attachment>)> {
    let target = format!("attachment/{id}/{}", input.stack_id);
    state
        .audited(&caller, "attachment.create", &target, async {
            let record = state
                .store
                .attach(&id, &input.stack_id, input.read, input.write)
                .await?;
            let integration = state.store.integration(&id).await?;
            // A role is only attached once it is proven safe: assumable with
            // the stack's External IDs and refused without one.
            if state.verify_on_attach && !integration.generate_credentials_in_worker {
                let ids = verify::ids_for(&state, &integration, &record.stack_id, &record.phases());
                let report = verify::run(&state, &integration, &ids).await?;
                if !report.ok {
                    state.store.detach(&id, record.stack_id.as_str()).await?;
                    return Err(ApiError::verification_failed(report));
                }
            }
            Ok((StatusCode::CREATED, axum::Json(one(&state, record).await?)))
        })
        .await
}

async fn of_integration(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    let records = state.store.attachments_of_integration(&id).await?;
    Ok(axum::Json(List {
        items: present(&state, records).await?,
    }))
}

async fn of_stack(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<List<Attachment>>> {
    let records = state.store.attachments_of_stack(&id).await?;
    Ok(axum::Json(List {
        items: present(&state, records).await?,
    }))
}

async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Attachment>> {
    let record = state.store.attachment(&id, &stack_id).await?;
    Ok(axum::Json(one(&state, record).await?))
}

async fn update(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path((id, stack_id)): Path<(String, String)>,
    Json(input): Json<AttachmentUpdate>,
) -> ApiResult<axum::Json<Attachment>> {
    state
        .audited(
            &caller,
            "attachment.update",
            &format!("attachment/{id}/{stack_id}"),
            async {
                let record = state
                    .store
                    .update_attachment(&id, &stack_id, input.read, input.write)
                    .await?;
                Ok(axum::Json(one(&state, record).await?))
            },
        )
        .await
}

async fn remove(
    State(state): State<Arc<AppState>>,
    Admin(caller): Admin,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .audited(
            &caller,
            "attachment.delete",
            &format!("attachment/{id}/{stack_id}"),
            async {
                state.store.detach(&id, &stack_id).await?;
                Ok(StatusCode::NO_CONTENT)
            },
        )
        .await
}
