//! `/v1/integrations/{id}/attachments` and `/v1/stacks/{id}/attachments`:
//! which stacks use an integration, for which phases.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};

use super::super::auth::Admin;
use super::super::error::{ApiError, ApiResult};
use super::super::store::attachments::AttachmentRecord;
use super::openapi;
use super::{AppState, Json, Path, Route, route, trust, verify};
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

#[utoipa::path(
    operation_id = "attachments_create",
    post, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id.")), request_body = AttachmentInput,
    responses((status = 201, description = "Attached (verified first, unless the broker skips verification).", body = Attachment), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
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

#[utoipa::path(
    operation_id = "attachments_of_integration",
    get, path = "/v1/integrations/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The integration's id.")),
    responses((status = 200, description = "The integration's attachments, by stack.", body = List<Attachment>), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
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

#[utoipa::path(
    operation_id = "attachments_of_stack",
    get, path = "/v1/stacks/{id}/attachments", tag = "attachments", params(("id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The stack's attachments, by integration.", body = List<Attachment>), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
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

#[utoipa::path(
    operation_id = "attachments_read",
    get, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 200, description = "The attachment.", body = Attachment), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
async fn read(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path((id, stack_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Attachment>> {
    let record = state.store.attachment(&id, &stack_id).await?;
    Ok(axum::Json(one(&state, record).await?))
}

#[utoipa::path(
    operation_id = "attachments_update",
    put, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")), request_body = AttachmentUpdate,
    responses((status = 200, description = "Updated.", body = Attachment), openapi::Malformed, openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound, openapi::Conflict, openapi::Invalid),
)]
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

#[utoipa::path(
    operation_id = "attachments_remove",
    delete, path = "/v1/integrations/{id}/attachments/{stack_id}", tag = "attachments", params(("id" = String, Path, description = "The integration's id."), ("stack_id" = String, Path, description = "The stack's id.")),
    responses((status = 204, description = "Detached."), openapi::Unauthenticated, openapi::Forbidden, openapi::NotFound),
)]
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
