//! Stack pages: the list, one stack with the integrations attached to it
//! per phase and their External IDs, and the create and edit forms.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::confirm::Confirm;
use super::every::every;
use super::flash;
use super::form::{Errors, Failure, Fields};
use super::integrations::AttachmentRow;
use super::session::{Posted, Signed};
use super::view::{FOUND_AT_MOST, Nav, Switcher, badge, found, pair_lines, render, when};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::{Path, Query};
use crate::broker::service::{attachments, integrations, spaces, stacks};
use crate::broker::state::AppState;
use crate::wire::{SpacedPageQuery, Stack, StackInput};

struct Row {
    id: String,
    name: String,
    space: String,
    labels: String,
    created: String,
}

#[derive(askama::Template)]
#[template(path = "console/stacks.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    next: Option<String>,
    /// What the search box holds, and how many more stacks it found than
    /// the page shows.
    search: String,
    more: usize,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    q: Option<String>,
    /// The switcher's space: its subtree is listed.
    space: Option<String>,
}

fn row(s: &Stack) -> Row {
    Row {
        id: s.id.to_string(),
        name: s.name.clone(),
        space: s.space.clone(),
        labels: pair_lines(&s.labels).replace('\n', ", "),
        created: when(&s.created_at),
    }
}

/// A page of stacks, or with `q` every stack whose id, name, space or
/// labels hold it (the first hundred shown, the count of the rest said).
pub async fn list(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    let search = q.q.unwrap_or_default().trim().to_string();
    let space = q.space.filter(|s| !s.is_empty());
    let (rows, next, more) = if search.is_empty() {
        let page = stacks::list(
            &state,
            signed.caller(),
            &SpacedPageQuery {
                limit: Some(100),
                cursor: q.cursor.filter(|c| !c.is_empty()),
                space: space.clone(),
            },
        )
        .await?;
        let next = page.next_cursor.map(|c| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("cursor", &c);
            if let Some(space) = &space {
                query.append_pair("space", space);
            }
            format!("/stacks?{}", query.finish())
        });
        (page.items.iter().map(row).collect(), next, 0)
    } else {
        let all = every(|q| {
            let (state, caller, space) = (&state, signed.caller(), space.clone());
            async move {
                let q = SpacedPageQuery { space, ..q.into() };
                stacks::list(state, caller, &q).await
            }
        })
        .await?;
        let hits: Vec<&Stack> = all
            .iter()
            .filter(|s| {
                let labels = pair_lines(&s.labels);
                found(&search, &[s.id.as_str(), &s.name, &s.space, &labels])
            })
            .collect();
        let more = hits.len().saturating_sub(FOUND_AT_MOST);
        let rows = hits.into_iter().take(FOUND_AT_MOST).map(row).collect();
        (rows, None, more)
    };
    let mut nav = signed.nav("stacks");
    let spaces = spaces::list(&state, signed.caller()).await?;
    nav.switcher = Some(Switcher::new(
        "/stacks",
        &spaces,
        space.as_deref().unwrap_or_default(),
    ));
    Ok(render(
        StatusCode::OK,
        &ListPage {
            nav,
            rows,
            next,
            search,
            more,
        },
    ))
}

/// An integration attached to the stack.
struct Attached {
    integration_id: String,
    integration_name: String,
    /// The integration's verification badge: an unsafe or refusing role
    /// is shown on every stack that relies on it.
    badge: (&'static str, &'static str),
    a: AttachmentRow,
}

#[derive(askama::Template)]
#[template(path = "console/stack.html")]
struct StackPage {
    nav: Nav,
    id: String,
    name: String,
    space: String,
    labels: Vec<(String, String)>,
    description: String,
    created: String,
    updated: String,
    attached: Vec<Attached>,
    /// Integrations of this stack whose last verification failed.
    failing: Vec<(String, &'static str)>,
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let caller = signed.caller();
    let stack = stacks::read(&state, caller, &id).await?;
    let attachments = every(|q| {
        let (state, id) = (&state, &id);
        async move { attachments::of_stack(state, caller, id, &q).await }
    })
    .await?;
    let mut attached = Vec::new();
    for a in &attachments {
        let integration = integrations::read(&state, caller, a.integration_id.as_str()).await?;
        attached.push(Attached {
            integration_id: integration.id.to_string(),
            badge: badge(&integration),
            integration_name: integration.name,
            a: AttachmentRow::of(a),
        });
    }
    Ok(render(
        StatusCode::OK,
        &StackPage {
            nav: signed.nav("stacks"),
            id: stack.id.to_string(),
            name: stack.name,
            space: stack.space,
            labels: stack.labels.into_iter().collect(),
            description: stack.description,
            created: when(&stack.created_at),
            updated: when(&stack.updated_at),
            failing: attached
                .iter()
                .filter(|t| t.badge.1 != "badge ok")
                .map(|t| (t.integration_name.clone(), t.badge.0))
                .collect(),
            attached,
        },
    ))
}

#[derive(Default)]
struct Values {
    id: String,
    name: String,
    space: String,
    labels: String,
    description: String,
}

impl Values {
    fn posted(f: &Fields, id: Option<&str>) -> Values {
        Values {
            id: id.map_or_else(|| f.get("id").to_string(), str::to_string),
            name: f.get("name").into(),
            space: f.get("space").into(),
            labels: f.get("labels").into(),
            description: f.get("description").into(),
        }
    }

    fn of(s: &Stack) -> Values {
        Values {
            id: s.id.to_string(),
            name: s.name.clone(),
            space: s.space.clone(),
            labels: pair_lines(&s.labels),
            description: s.description.clone(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "console/stack_form.html")]
struct FormPage {
    nav: Nav,
    action: String,
    editing: bool,
    v: Values,
    errors: Errors,
}

fn form_page(
    signed: &Signed,
    editing: bool,
    v: Values,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let action = if editing {
        format!("/stacks/{}/edit", v.id)
    } else {
        "/stacks".to_string()
    };
    render(
        status,
        &FormPage {
            nav: signed.nav("stacks"),
            action,
            editing,
            v,
            errors,
        },
    )
}

fn input(f: &Fields, id: &str) -> Result<StackInput, ApiError> {
    Ok(StackInput {
        id: id.to_string(),
        name: f.optional("name"),
        space: f.optional("space"),
        labels: f.pairs("labels")?,
        description: f.get("description").into(),
    })
}

pub async fn new(signed: Signed) -> Response {
    form_page(
        &signed,
        false,
        Values::default(),
        Errors::default(),
        StatusCode::OK,
    )
}

pub async fn create(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    let Posted { signed, fields } = posted;
    let id = fields.get("id").to_string();
    let created = match input(&fields, &id) {
        Ok(s) => stacks::create(&state, signed.caller(), s, None)
            .await
            .map(|c| c.value),
        Err(e) => Err(e),
    };
    match created {
        Ok(s) => flash::done(
            &state,
            &format!("/stacks/{}", s.id),
            &format!("Stack {} created.", s.id),
        ),
        Err(e) => {
            let status = e.status();
            form_page(
                &signed,
                false,
                Values::posted(&fields, None),
                Errors::of(e),
                status,
            )
        }
    }
}

pub async fn edit(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let s = stacks::read(&state, signed.caller(), &id).await?;
    Ok(form_page(
        &signed,
        true,
        Values::of(&s),
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
    let replaced = match input(&fields, &id) {
        Ok(s) => stacks::replace(&state, signed.caller(), &id, s).await,
        Err(e) => Err(e),
    };
    match replaced {
        Ok(_) => flash::done(
            &state,
            &format!("/stacks/{id}"),
            &format!("Stack {id} saved."),
        ),
        Err(e) => {
            let status = e.status();
            form_page(
                &signed,
                true,
                Values::posted(&fields, Some(&id)),
                Errors::of(e),
                status,
            )
        }
    }
}

/// Deleting a stack, asked first.
async fn deleting(state: &AppState, caller: &Caller, id: &str) -> Result<Confirm, Failure> {
    let stack = stacks::read(state, caller, id).await?;
    Ok(Confirm {
        title: format!("Delete stack {}?", stack.id),
        consequence: format!(
            "{} ({}) leaves the registry, and its runner keys and runner trusts are deleted \
             with it. A stack still attached to an integration cannot be deleted: detach it \
             first.",
            stack.id, stack.name
        ),
        action: format!("/stacks/{}/delete", stack.id),
        button: format!("Delete stack {}", stack.id),
        typed: None,
        back: format!("/stacks/{}", stack.id),
        section: "stacks",
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
    let action = stacks::remove(&state, posted.signed.caller(), &id);
    let done = format!("Stack {id} deleted.");
    Ok(c.act(&state, &posted, action, "/stacks", &done).await)
}
