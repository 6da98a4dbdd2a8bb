//! API keys: the list (with last use and expiry), creating one (its secret
//! shown once, with a copy button), revoking one.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::every::every;
use super::form::{Errors, Failure, Fields};
use super::session::{Posted, Signed};
use super::view::{Nav, render, when, when_or_never};
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::keys;
use crate::broker::state::AppState;
use crate::model::Phase;
use crate::wire::{ApiKeyInput, KeyRole};

struct KeyRow {
    id: String,
    role: &'static str,
    stack: String,
    phases: String,
    description: String,
    created: String,
    last_used: String,
    expires: String,
    revoked: String,
}

/// The create form's values, as typed.
#[derive(Default)]
struct Values {
    role: String,
    stack: String,
    read: bool,
    write: bool,
    description: String,
    expires_in_days: String,
}

#[derive(askama::Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    nav: Nav,
    keys: Vec<KeyRow>,
    v: Values,
    errors: Errors,
    /// The secret of the key just created: on this one page, once.
    created: Option<(String, String)>,
}

pub fn phases(p: &[Phase]) -> String {
    p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

async fn page(
    state: &Arc<AppState>,
    signed: &Signed,
    v: Values,
    errors: Errors,
    created: Option<(String, String)>,
) -> Result<KeysPage, Failure> {
    let keys = every(|q| async move { keys::list(state, &q).await }).await?;
    let mut rows: Vec<KeyRow> = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.clone(),
            role: match k.role {
                KeyRole::Admin => "admin",
                KeyRole::Runner => "runner",
            },
            stack: k
                .stack_id
                .as_ref()
                .map_or_else(String::new, |s| s.to_string()),
            phases: phases(&k.phases),
            description: k.description.clone(),
            created: when(&k.created_at),
            last_used: when_or_never(k.last_used_at.as_deref()),
            expires: when_or_never(k.expires_at.as_deref()),
            revoked: k.revoked_at.as_deref().map(when).unwrap_or_default(),
        })
        .collect();
    // Newest first: the key just made is at the top.
    rows.reverse();
    Ok(KeysPage {
        nav: signed.nav("keys"),
        keys: rows,
        v,
        errors,
        created,
    })
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed) -> Result<Response, Failure> {
    let v = Values {
        role: "runner".into(),
        read: true,
        ..Values::default()
    };
    let p = page(&state, &signed, v, Errors::default(), None).await?;
    Ok(render(StatusCode::OK, &p))
}

fn input(f: &Fields) -> Result<ApiKeyInput, ApiError> {
    let role = match f.get("role") {
        "admin" => KeyRole::Admin,
        "runner" => KeyRole::Runner,
        _ => return Err(ApiError::invalid("role", "choose admin or runner")),
    };
    let expires_in_seconds = f
        .optional("expires_in_days")
        .map(|d| {
            d.parse::<i64>()
                .ok()
                .filter(|d| *d > 0)
                .map(|d| d * 86_400)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "expires_in_seconds",
                        format!("{d:?} is not a whole number of days above zero"),
                    )
                })
        })
        .transpose()?;
    let chosen: Vec<Phase> = Phase::ALL
        .into_iter()
        .filter(|p| f.checked(p.as_str()))
        .collect();
    let runner = role == KeyRole::Runner;
    Ok(ApiKeyInput {
        role,
        stack_id: if runner { f.optional("stack_id") } else { None },
        phases: (runner && !chosen.is_empty()).then_some(chosen),
        description: f.get("description").into(),
        expires_in_seconds,
    })
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    posted: Posted,
) -> Result<Response, Failure> {
    let Posted { signed, fields } = posted;
    let made = match input(&fields) {
        Ok(i) => keys::create(&state, signed.admin(), i, None)
            .await
            .map(|c| c.value),
        Err(e) => Err(e),
    };
    let defaults = Values {
        role: "runner".into(),
        read: true,
        ..Values::default()
    };
    match made {
        Ok(created) => {
            let p = page(
                &state,
                &signed,
                defaults,
                Errors::default(),
                Some((created.key.id, created.token)),
            )
            .await?;
            Ok(render(StatusCode::CREATED, &p))
        }
        Err(e) => {
            let status = e.status();
            let v = Values {
                role: fields.get("role").into(),
                stack: fields.get("stack_id").into(),
                read: fields.checked("read"),
                write: fields.checked("write"),
                description: fields.get("description").into(),
                expires_in_days: fields.get("expires_in_days").into(),
            };
            let p = page(&state, &signed, v, Errors::of(e), None).await?;
            Ok(render(status, &p))
        }
    }
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let _revoked = keys::revoke(&state, posted.signed.admin(), &id).await?;
    Ok(Redirect::to("/keys").into_response())
}
