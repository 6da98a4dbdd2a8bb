//! Attaching a stack to an integration as Read, Write or Read & Write,
//! changing its access, and detaching it: the API's handlers, so an attach
//! is verified against the role exactly as from Terraform, and a refusal
//! shows the API's reason on the Attachments tab.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::{Failure, Fields};
use super::integrations::attachments_refused;
use super::session::{Posted, Signed};
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::attachments;
use crate::broker::state::AppState;
use crate::wire::{AttachmentInput, AttachmentUpdate};

/// The access radio buttons: `read`, `write` or `read-write`.
fn access(fields: &Fields) -> Result<(bool, bool), ApiError> {
    match fields.get("access") {
        "read" => Ok((true, false)),
        "write" => Ok((false, true)),
        "read-write" => Ok((true, true)),
        _ => Err(ApiError::invalid(
            "access",
            "choose Read, Write or Read & Write",
        )),
    }
}

/// Back to the Attachments tab: as it now is, or with why the change was
/// refused.
async fn settle(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
    done: Result<(), ApiError>,
) -> Result<Response, Failure> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/integrations/{id}/attachments")).into_response()),
        Err(e) => attachments_refused(state, signed, id, e).await,
    }
}

pub async fn attach(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let signed = &posted.signed;
    let done = match access(&posted.fields) {
        Ok((read, write)) => attachments::create(
            &state,
            signed.admin(),
            &id,
            AttachmentInput {
                stack_id: posted.fields.get("stack").to_string(),
                read,
                write,
            },
            None,
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    settle(&state, signed, &id, done).await
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path((id, stack)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, Failure> {
    let signed = &posted.signed;
    let done = match access(&posted.fields) {
        Ok((read, write)) => attachments::update(
            &state,
            signed.admin(),
            &id,
            &stack,
            AttachmentUpdate { read, write },
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    settle(&state, signed, &id, done).await
}

pub async fn detach(
    State(state): State<Arc<AppState>>,
    Path((id, stack)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, Failure> {
    let signed = &posted.signed;
    let done = attachments::remove(&state, signed.admin(), &id, &stack).await;
    settle(&state, signed, &id, done).await
}
