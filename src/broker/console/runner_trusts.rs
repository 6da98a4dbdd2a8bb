//! Runner trusts: which CI identity tokens (OIDC) act for which stack and
//! phases, so runs need no stored key. The list, creating one with the
//! API's checks shown next to the field, and deleting one.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::confirm::Confirm;
use super::every::{every, stack_choices};
use super::flash;
use super::form::{Errors, Failure, Fields};
use super::keys::phases;
use super::session::{Posted, Signed};
use super::view::{Nav, pair_lines, render, when};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::runner_trusts;
use crate::broker::state::AppState;
use crate::model::Phase;
use crate::wire::RunnerTrustInput;

struct Row {
    id: String,
    stack: String,
    issuer: String,
    audience: String,
    subject: String,
    claims: String,
    phases: String,
    description: String,
    created: String,
    single_use: bool,
}

/// The create form's values, as typed.
struct Values {
    stack_id: String,
    issuer: String,
    audience: String,
    subject: String,
    claims: String,
    read: bool,
    write: bool,
    description: String,
    single_use_tokens: bool,
}

impl Default for Values {
    fn default() -> Values {
        Values {
            stack_id: String::new(),
            issuer: String::new(),
            audience: "deputy".into(),
            subject: String::new(),
            claims: String::new(),
            read: true,
            write: false,
            description: String::new(),
            single_use_tokens: false,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "console/runner_trusts.html")]
struct TrustsPage {
    nav: Nav,
    rows: Vec<Row>,
    v: Values,
    errors: Errors,
    /// Stack ids the stack field offers.
    stacks: Vec<String>,
}

async fn page(
    state: &Arc<AppState>,
    signed: &Signed,
    v: Values,
    errors: Errors,
) -> Result<TrustsPage, Failure> {
    let caller = signed.caller();
    let trusts =
        every(|q| async move { runner_trusts::list(state, caller, &q.into()).await }).await?;
    let rows = trusts
        .iter()
        .map(|t| Row {
            id: t.id.clone(),
            stack: t.stack_id.to_string(),
            issuer: t.issuer.clone(),
            audience: t.audience.clone(),
            subject: t.subject.clone(),
            claims: pair_lines(&t.claims).replace('\n', ", "),
            phases: phases(&t.phases),
            description: t.description.clone(),
            created: when(&t.created_at),
            single_use: t.single_use_tokens,
        })
        .collect();
    Ok(TrustsPage {
        nav: signed.nav("runner-trusts"),
        rows,
        v,
        errors,
        stacks: stack_choices(state, caller).await?,
    })
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed) -> Result<Response, Failure> {
    let p = page(&state, &signed, Values::default(), Errors::default()).await?;
    Ok(render(StatusCode::OK, &p))
}

fn input(f: &Fields) -> Result<RunnerTrustInput, ApiError> {
    Ok(RunnerTrustInput {
        stack_id: f.get("stack_id").into(),
        issuer: f.get("issuer").into(),
        audience: f.get("audience").into(),
        subject: f.get("subject").into(),
        claims: f.pairs("claims")?,
        phases: Phase::ALL
            .into_iter()
            .filter(|p| f.checked(p.as_str()))
            .collect(),
        description: f.get("description").into(),
        single_use_tokens: f.checked("single_use_tokens"),
    })
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    posted: Posted,
) -> Result<Response, Failure> {
    let Posted { signed, fields } = posted;
    let made = match input(&fields) {
        Ok(i) => runner_trusts::create(&state, signed.caller(), i, None)
            .await
            .map(|c| c.value),
        Err(e) => Err(e),
    };
    match made {
        Ok(t) => Ok(flash::done(
            &state,
            "/runner-trusts",
            &format!("Runner trust {} created for stack {}.", t.id, t.stack_id),
        )),
        Err(e) => {
            let status = e.status();
            let v = Values {
                stack_id: fields.get("stack_id").into(),
                issuer: fields.get("issuer").into(),
                audience: fields.get("audience").into(),
                subject: fields.get("subject").into(),
                claims: fields.get("claims").into(),
                read: fields.checked("read"),
                write: fields.checked("write"),
                description: fields.get("description").into(),
                single_use_tokens: fields.checked("single_use_tokens"),
            };
            let p = page(&state, &signed, v, Errors::of(e)).await?;
            Ok(render(status, &p))
        }
    }
}

/// Deleting a runner trust, asked first.
async fn deleting(state: &AppState, caller: &Caller, id: &str) -> Result<Confirm, Failure> {
    let t = runner_trusts::read(state, caller, id).await?;
    Ok(Confirm {
        title: format!("Delete runner trust {}?", t.id),
        consequence: format!(
            "Runs whose identity token from {} matches {} get no more credentials for stack {}. \
             This cannot be undone.",
            t.issuer, t.subject, t.stack_id
        ),
        action: format!("/runner-trusts/{}/delete", t.id),
        button: format!("Delete runner trust {}", t.id),
        typed: None,
        back: "/runner-trusts".into(),
        section: "runner-trusts",
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
    let action = runner_trusts::remove(&state, posted.signed.caller(), &id);
    let done = format!("Runner trust {id} deleted.");
    Ok(c.act(&state, &posted, action, "/runner-trusts", &done)
        .await)
}
