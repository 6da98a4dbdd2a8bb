//! Attaching a stack to an integration as Read, Write or Read & Write,
//! changing its access, and detaching it (asked first): the API's
//! handlers, so an attach is verified against the role exactly as from
//! Terraform, and a refusal shows the API's reason on the Attachments tab.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::confirm::Confirm;
use super::flash;
use super::form::{Failure, Fields};
use super::integrations::{attachments_refused, refused_now};
use super::session::{Posted, Signed};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::{attachments, integrations, stacks, verification};
use crate::broker::state::AppState;
use crate::model::{Phase, StackId};
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

/// Back to the Attachments tab: as it now is, saying what was done, or
/// with why the change was refused.
async fn settle(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
    chosen: &str,
    done: Result<String, ApiError>,
) -> Result<Response, Failure> {
    match done {
        Ok(message) => Ok(flash::done(
            state,
            &format!("/integrations/{id}/attachments"),
            &message,
        )),
        Err(e) => attachments_refused(state, signed, id, chosen, e).await,
    }
}

/// How access reads in a sentence.
fn access_words(read: bool, write: bool) -> &'static str {
    match (read, write) {
        (true, true) => "Read & Write",
        (true, false) => "Read",
        _ => "Write",
    }
}

pub async fn attach(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let signed = &posted.signed;
    let stack = posted.fields.get("stack").to_string();
    // A role that lacks the stack's statement is refused at once; "attach
    // and wait for IAM" (`wait`) skips the check for a role just changed.
    // Only for a stack that exists and is not attached yet: anything else
    // is the attach's to refuse, with its own reason.
    if let (false, Ok((read, write)), Ok(named)) = (
        posted.fields.checked("wait"),
        access(&posted.fields),
        stack.parse::<StackId>(),
    ) && stacks::read(&state, signed.caller(), &stack).await.is_ok()
        && attachments::read(&state, signed.caller(), &id, &stack)
            .await
            .is_err()
    {
        let integration = integrations::read(&state, signed.caller(), &id).await?;
        let phases = Phase::from_flags(read, write);
        if let Some(report) =
            verification::refused_now(&state, signed.caller(), &integration, &named, phases).await
        {
            let access = posted.fields.get("access");
            return refused_now(&state, signed, &integration, &stack, access, &report).await;
        }
    }
    let done = match access(&posted.fields) {
        Ok((read, write)) => attachments::create(
            &state,
            signed.caller(),
            &id,
            AttachmentInput {
                stack_id: stack.clone(),
                read,
                write,
            },
            None,
        )
        .await
        .map(|_| format!("Stack {stack} attached as {}.", access_words(read, write))),
        Err(e) => Err(e),
    };
    settle(&state, signed, &id, &stack, done).await
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
            signed.caller(),
            &id,
            &stack,
            AttachmentUpdate { read, write },
        )
        .await
        .map(|_| {
            format!(
                "Stack {stack} now has {} access.",
                access_words(read, write)
            )
        }),
        Err(e) => Err(e),
    };
    settle(&state, signed, &id, "", done).await
}

/// Detaching a stack, asked first.
async fn detaching(
    state: &AppState,
    caller: &Caller,
    id: &str,
    stack: &str,
) -> Result<Confirm, Failure> {
    let a = attachments::read(state, caller, id, stack).await?;
    let i = integrations::read(state, caller, id).await?;
    Ok(Confirm {
        title: format!("Detach stack {} from {}?", a.stack_id, i.name),
        consequence: format!(
            "Runs of stack {} get no more credentials from role {} ({} access today). The \
             role's trust policy can then drop the stack's External IDs.",
            a.stack_id,
            i.role_arn,
            access_words(a.read, a.write)
        ),
        action: format!("/integrations/{id}/attachments/{}/detach", a.stack_id),
        button: format!("Detach stack {}", a.stack_id),
        typed: None,
        back: format!("/integrations/{id}/attachments"),
        section: "integrations",
    })
}

pub async fn confirm_detach(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path((id, stack)): Path<(String, String)>,
) -> Result<Response, Failure> {
    Ok(detaching(&state, signed.caller(), &id, &stack)
        .await?
        .ask(&signed))
}

pub async fn detach(
    State(state): State<Arc<AppState>>,
    Path((id, stack)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, Failure> {
    let c = detaching(&state, posted.signed.caller(), &id, &stack).await?;
    if !c.given(&posted.fields) {
        return Ok(c.asked_again(&posted.signed, &posted.fields));
    }
    let signed = &posted.signed;
    let done = attachments::remove(&state, signed.caller(), &id, &stack)
        .await
        .map(|()| format!("Stack {stack} detached."));
    settle(&state, signed, &id, "", done).await
}
