//! API keys: the list (with last use and expiry), creating one (its secret
//! shown once, with a copy button), revoking one after a confirmation.
//!
//! Creating is post/redirect/get: the form carries a one-time key (the
//! API's Idempotency-Key), so a form posted twice (a reload of the answer,
//! Back and resubmit) makes one key, and the secret reaches the page in a
//! cookie the page clears (see `flash`), so a reload does not show it again.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::confirm::Confirm;
use super::every::{every, stack_choices};
use super::flash;
use super::form::{Errors, Failure, Fields};
use super::session::{Posted, Signed};
use super::view::{Nav, render, when, when_or_never};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::{IdempotencyKey, Path, Query};
use crate::broker::service::{idempotency, keys};
use crate::broker::state::AppState;
use crate::model::Phase;
use crate::model::secret::random_secret;
use crate::wire::{ApiKeyInput, KeyRole};

struct KeyRow {
    id: String,
    role: &'static str,
    space: String,
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
    space: String,
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
    /// A key created earlier whose secret this page no longer has (the
    /// page was reloaded): said so, with what to do.
    shown_before: String,
    /// The create form's one-time key.
    once: String,
    /// Stack ids the stack field offers.
    stacks: Vec<String>,
}

/// `?created=ID`: the page a create redirects to.
#[derive(serde::Deserialize)]
pub struct Made {
    created: Option<String>,
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
    let caller = signed.caller();
    let keys = every(|q| async move { keys::list(state, caller, &q.into()).await }).await?;
    let mut rows: Vec<KeyRow> = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.clone(),
            role: k.role.as_str(),
            space: k
                .space_id
                .as_ref()
                .map_or_else(String::new, |s| s.to_string()),
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
        shown_before: String::new(),
        once: random_secret(),
        stacks: stack_choices(state, caller).await?,
    })
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Query(made): Query<Made>,
) -> Result<Response, Failure> {
    let v = Values {
        role: "runner".into(),
        read: true,
        ..Values::default()
    };
    let made = made.created.unwrap_or_default();
    // The cookie's secret is shown only for the key the redirect named.
    let created = signed
        .shown
        .secret
        .clone()
        .filter(|token| {
            made.len() == 16
                && made.bytes().all(|b| b.is_ascii_hexdigit())
                && token.starts_with(&format!("dpk_{made}_"))
        })
        .map(|token| (made.clone(), token));
    let mut p = page(&state, &signed, v, Errors::default(), created).await?;
    if p.created.is_none() && p.keys.iter().any(|k| k.id == made) {
        p.shown_before = made;
    }
    Ok(render(StatusCode::OK, &p))
}

fn input(f: &Fields) -> Result<ApiKeyInput, ApiError> {
    let role = match f.get("role") {
        "admin" => KeyRole::Admin,
        "write" => KeyRole::Write,
        "read" => KeyRole::Read,
        "runner" => KeyRole::Runner,
        _ => {
            return Err(ApiError::invalid(
                "role",
                "choose runner, admin, write or read",
            ));
        }
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
        space_id: if runner { None } else { f.optional("space_id") },
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
        Ok(i) => {
            // A form without its one-time key (an old page) still works;
            // it only loses the protection against a second post.
            let once = IdempotencyKey {
                key: fields.optional("once"),
                route: "/keys".into(),
            };
            match idempotency::request(signed.caller(), &once, &i) {
                Ok(once) => keys::create(&state, signed.caller(), i, once.as_ref())
                    .await
                    .map(|c| c.value),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(created) => {
            let id = created.key.id;
            Ok(flash::revealing(
                &state,
                &format!("/keys?created={id}"),
                &format!("Key {id} created."),
                &created.token,
            ))
        }
        Err(e) => {
            let status = e.status();
            let v = Values {
                role: fields.get("role").into(),
                space: fields.get("space_id").into(),
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

/// Revoking a key, asked first: an admin key's id must be typed (revoking
/// the wrong one can lock out a team).
async fn revoking(state: &AppState, caller: &Caller, id: &str) -> Result<Confirm, Failure> {
    let key = keys::read(state, caller, id).await?;
    let (consequence, typed) = match key.role {
        KeyRole::Admin | KeyRole::Write | KeyRole::Read => (
            format!(
                "Everyone using this {} key, in the console, the CLI or Terraform, loses access \
                 at once, and its console sessions end. The broker refuses to revoke the last \
                 admin key of the root space. This cannot be undone.",
                key.role.as_str()
            ),
            Some(key.id.clone()),
        ),
        KeyRole::Runner => (
            format!(
                "Runs using this key for stack {} get no more credentials. This cannot be undone.",
                key.stack_id.as_ref().map_or("?", |s| s.as_str())
            ),
            None,
        ),
    };
    Ok(Confirm {
        title: format!("Revoke key {}?", key.id),
        consequence,
        action: format!("/keys/{}/revoke", key.id),
        button: format!("Revoke key {}", key.id),
        typed,
        back: "/keys".into(),
        section: "keys",
    })
}

pub async fn confirm_revoke(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    Ok(revoking(&state, signed.caller(), &id).await?.ask(&signed))
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let c = revoking(&state, posted.signed.caller(), &id).await?;
    let action = async {
        keys::revoke(&state, posted.signed.caller(), &id)
            .await
            .map(|_| ())
    };
    let done = format!("Key {id} revoked.");
    Ok(c.act(&state, &posted, action, "/keys", &done).await)
}
