//! Creating, editing and deleting an integration. The form posts what was
//! typed to the API's handlers; a value the API refuses comes back with
//! the API's message next to its field, and everything typed kept.
//! Deleting asks for the integration's name first.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::confirm::Confirm;
use super::flash;
use super::form::{Errors, Failure, Fields};
use super::session::{Posted, Signed};
use super::view::{Nav, pair_lines, render};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::integrations;
use crate::broker::state::AppState;
use crate::wire::{Integration, IntegrationInput};

/// The form's values, as typed.
#[derive(Default)]
pub struct Values {
    name: String,
    role_arn: String,
    region: String,
    duration_seconds: String,
    worker: bool,
    external_id: String,
    tag_session: bool,
    set_source_identity: bool,
    trust_scope: String,
    read_session_policy_arns: String,
    write_session_policy_arns: String,
    labels: String,
    space: String,
    description: String,
}

impl Values {
    fn posted(f: &Fields) -> Values {
        Values {
            name: f.get("name").into(),
            role_arn: f.get("role_arn").into(),
            region: f.get("region").into(),
            duration_seconds: f.get("duration_seconds").into(),
            worker: f.checked("generate_credentials_in_worker"),
            external_id: f.get("external_id").into(),
            tag_session: f.checked("tag_session"),
            set_source_identity: f.checked("set_source_identity"),
            trust_scope: f.get("trust_scope").into(),
            read_session_policy_arns: f.get("read_session_policy_arns").into(),
            write_session_policy_arns: f.get("write_session_policy_arns").into(),
            labels: f.get("labels").into(),
            space: f.get("space").into(),
            description: f.get("description").into(),
        }
    }

    fn of(i: &Integration) -> Values {
        Values {
            name: i.name.clone(),
            role_arn: i.role_arn.to_string(),
            region: i.region.to_string(),
            duration_seconds: i.duration_seconds.to_string(),
            worker: i.generate_credentials_in_worker,
            external_id: i
                .external_id
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            tag_session: i.tag_session,
            set_source_identity: i.set_source_identity,
            trust_scope: i.trust_scope.as_str().into(),
            read_session_policy_arns: i.read_session_policy_arns.join("\n"),
            write_session_policy_arns: i.write_session_policy_arns.join("\n"),
            labels: pair_lines(&i.labels),
            space: i.space.clone(),
            description: i.description.clone(),
        }
    }
}

/// The API's input from the form, or the field at fault.
fn input(f: &Fields) -> Result<IntegrationInput, ApiError> {
    let duration_seconds = f
        .optional("duration_seconds")
        .map(|d| {
            d.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    "duration_seconds",
                    format!("{d:?} is not a whole number of seconds"),
                )
            })
        })
        .transpose()?;
    Ok(IntegrationInput {
        name: f.get("name").into(),
        role_arn: f.get("role_arn").into(),
        region: f.optional("region"),
        duration_seconds,
        generate_credentials_in_worker: f.checked("generate_credentials_in_worker"),
        external_id: f.optional("external_id"),
        tag_session: f.checked("tag_session"),
        set_source_identity: f.checked("set_source_identity"),
        trust_scope: f.optional("trust_scope"),
        read_session_policy_arns: f.lines("read_session_policy_arns"),
        write_session_policy_arns: f.lines("write_session_policy_arns"),
        labels: f.pairs("labels")?,
        space: f.optional("space"),
        description: f.get("description").into(),
    })
}

#[derive(askama::Template)]
#[template(path = "console/integration_form.html")]
struct FormPage {
    nav: Nav,
    /// Where the form posts, and the integration's id when editing.
    action: String,
    editing: Option<String>,
    v: Values,
    errors: Errors,
}

fn form_page(
    signed: &Signed,
    editing: Option<String>,
    v: Values,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let action = match &editing {
        Some(id) => format!("/integrations/{id}/edit"),
        None => "/integrations".to_string(),
    };
    render(
        status,
        &FormPage {
            nav: signed.nav("integrations"),
            action,
            editing,
            v,
            errors,
        },
    )
}

fn refused(signed: &Signed, editing: Option<String>, f: &Fields, e: ApiError) -> Response {
    let status = e.status();
    form_page(signed, editing, Values::posted(f), Errors::of(e), status)
}

pub async fn new(signed: Signed) -> Response {
    let v = Values {
        trust_scope: "stack".into(),
        ..Values::default()
    };
    form_page(&signed, None, v, Errors::default(), StatusCode::OK)
}

pub async fn create(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    let Posted { signed, fields } = posted;
    let created = match input(&fields) {
        Ok(i) => integrations::create(&state, signed.caller(), i, None)
            .await
            .map(|c| c.value),
        Err(e) => Err(e),
    };
    match created {
        Ok(i) => flash::done(
            &state,
            &format!("/integrations/{}", i.id),
            &format!(
                "Integration {} created. Next: choose its stacks on the Trust Policy tab and give the role that policy.",
                i.name
            ),
        ),
        Err(e) => refused(&signed, None, &fields, e),
    }
}

pub async fn edit(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let i = integrations::read(&state, signed.caller(), &id).await?;
    Ok(form_page(
        &signed,
        Some(id),
        Values::of(&i),
        Errors::default(),
        StatusCode::OK,
    ))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { signed, fields } = posted;
    let replaced = match input(&fields) {
        Ok(i) => integrations::replace(&state, signed.caller(), &id, i).await,
        Err(e) => Err(e),
    };
    match replaced {
        Ok(i) => flash::done(
            &state,
            &format!("/integrations/{id}"),
            &format!("Integration {} saved.", i.name),
        ),
        Err(e) => refused(&signed, Some(id), &fields, e),
    }
}

/// Deleting an integration, asked first: its name must be typed.
async fn deleting(state: &AppState, caller: &Caller, id: &str) -> Result<Confirm, Failure> {
    let i = integrations::read(state, caller, id).await?;
    Ok(Confirm {
        title: format!("Delete integration {}?", i.name),
        consequence: format!(
            "deputy forgets the integration for role {}. The role itself stays in AWS. An \
             integration with attached stacks cannot be deleted: detach them first.",
            i.role_arn
        ),
        action: format!("/integrations/{}/delete", i.id),
        button: format!("Delete integration {}", i.name),
        typed: Some(i.name),
        back: format!("/integrations/{}", i.id),
        section: "integrations",
    })
}

pub async fn confirm_delete(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    Ok(deleting(&state, signed.caller(), &id).await?.ask(&signed))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let c = deleting(&state, posted.signed.caller(), &id).await?;
    let action = integrations::remove(&state, posted.signed.caller(), &id);
    let done = format!("Integration {} deleted.", c.typed.as_deref().unwrap_or(&id));
    Ok(c.act(&state, &posted, action, "/integrations", &done).await)
}
