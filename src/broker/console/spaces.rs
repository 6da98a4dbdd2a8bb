//! Spaces: the tree of the key's subtree, with what each space inherits
//! and links to its stacks and integrations, and (for admins) creating a
//! child space with the API's checks shown next to the field.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::flash;
use super::form::{Errors, Failure, Fields};
use super::session::{Posted, Signed};
use super::view::{Nav, Switcher, render, when};
use crate::broker::service::spaces;
use crate::broker::state::AppState;
use crate::wire::SpaceInput;

struct Row {
    id: String,
    /// The id indented by its depth in the tree.
    label: String,
    name: String,
    inherit: bool,
    parent: String,
    created: String,
}

/// The create form's values, as typed.
#[derive(Default)]
struct Values {
    id: String,
    name: String,
    parent_id: String,
    inherit: bool,
    description: String,
}

#[derive(askama::Template)]
#[template(path = "console/spaces.html")]
struct SpacesPage {
    nav: Nav,
    rows: Vec<Row>,
    v: Values,
    errors: Errors,
    /// Spaces a new one may go under: the key's subtree.
    parents: Vec<String>,
}

async fn page(
    state: &Arc<AppState>,
    signed: &Signed,
    v: Values,
    errors: Errors,
) -> Result<SpacesPage, Failure> {
    let spaces = spaces::list(state, signed.caller()).await?;
    // The switcher's order: the tree, depth first.
    let tree = Switcher::new("/stacks", &spaces, "");
    let rows = tree
        .spaces
        .iter()
        .filter_map(|(id, label)| {
            let s = spaces.iter().find(|s| s.id.as_str() == id)?;
            Some(Row {
                id: id.clone(),
                label: label.clone(),
                name: s.name.clone(),
                inherit: s.inherit,
                parent: s
                    .parent_id
                    .as_ref()
                    .map_or_else(String::new, |p| p.to_string()),
                created: when(&s.created_at),
            })
        })
        .collect();
    let parents = tree.spaces.into_iter().map(|(id, _)| id).collect();
    Ok(SpacesPage {
        nav: signed.nav("spaces"),
        rows,
        v,
        errors,
        parents,
    })
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed) -> Result<Response, Failure> {
    let v = Values {
        parent_id: signed
            .caller()
            .key
            .space_id
            .as_ref()
            .map_or_else(String::new, |s| s.to_string()),
        inherit: true,
        ..Values::default()
    };
    let p = page(&state, &signed, v, Errors::default()).await?;
    Ok(render(StatusCode::OK, &p))
}

fn input(f: &Fields) -> SpaceInput {
    SpaceInput {
        id: f.get("id").into(),
        name: f.optional("name"),
        parent_id: f.optional("parent_id"),
        inherit: f.checked("inherit"),
        labels: Default::default(),
        description: f.get("description").into(),
    }
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    posted: Posted,
) -> Result<Response, Failure> {
    let Posted { signed, fields } = posted;
    match spaces::create(&state, signed.caller(), input(&fields), None)
        .await
        .map(|c| c.value)
    {
        Ok(s) => Ok(flash::done(
            &state,
            "/spaces",
            &format!(
                "Space {} created under {}.",
                s.id,
                s.parent_id.as_ref().map_or("", |p| p.as_str())
            ),
        )),
        Err(e) => {
            let status = e.status();
            let v = Values {
                id: fields.get("id").into(),
                name: fields.get("name").into(),
                parent_id: fields.get("parent_id").into(),
                inherit: fields.checked("inherit"),
                description: fields.get("description").into(),
            };
            let p = page(&state, &signed, v, Errors::of(e)).await?;
            Ok(render(status, &p))
        }
    }
}
