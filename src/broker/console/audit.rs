//! The audit trail, newest first, with the API's filters (stack,
//! integration by name or id, action, outcome, since) and a page at a
//! time.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::form::Failure;
use super::session::Signed;
use super::view::{Listed, Nav, render, when};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::service::{audit, integrations};
use crate::broker::state::AppState;
use crate::model::audit as audit_words;
use crate::wire::{AuditFilter, ProblemCode};

struct Row {
    at: String,
    action: String,
    target: String,
    outcome: String,
    ok: bool,
    key: String,
    stack: String,
    /// The detail's first line, cut short; the whole of it folds out.
    summary: String,
    detail: String,
}

/// Details can run to paragraphs (a failed verification's fix): the list
/// shows their start.
const SUMMARY_CHARS: usize = 80;

fn summary(detail: &str) -> String {
    let mut short: String = detail.chars().take(SUMMARY_CHARS).collect();
    if short.len() < detail.len() {
        short.push('…');
    }
    short
}

/// The filter form, as typed.
#[derive(Default)]
struct Filters {
    stack: String,
    integration: String,
    action: String,
    outcome: String,
    since: String,
}

#[derive(askama::Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    nav: Nav,
    rows: Vec<Row>,
    f: Filters,
    error: String,
    next: Option<String>,
    /// What the action and outcome fields offer.
    actions: &'static [&'static str],
    outcomes: Vec<&'static str>,
}

/// A browser's `datetime-local` value (`2026-12-03T14:05`, read as UTC)
/// as the API's RFC 3339; anything else goes to the API as typed.
fn since(typed: &str) -> String {
    if typed.len() == 16 && typed.as_bytes().get(10) == Some(&b'T') {
        format!("{typed}:00.000000Z")
    } else {
        typed.to_string()
    }
}

/// The integration a filter names, by id or by name; what was typed when
/// it names none (the list is then empty, as for any unknown id).
async fn integration_id(
    state: &AppState,
    caller: &Caller,
    typed: String,
) -> Result<String, Failure> {
    match integrations::read(state, caller, &typed).await {
        Ok(i) => Ok(i.id.to_string()),
        Err(ApiError::NotFound { .. }) => {
            match integrations::by_name(state, caller, &typed).await {
                Ok(i) => Ok(i.id.to_string()),
                Err(ApiError::NotFound { .. }) => Ok(typed),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_string()).filter(|t| !t.is_empty())
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let mut f = Filters::default();
    let mut cursor = None;
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.into_owned();
        match &*k {
            "stack" => f.stack = v,
            "integration" => f.integration = v,
            "action" => f.action = v,
            "outcome" => f.outcome = v,
            "since" => f.since = v,
            "cursor" => cursor = some(&v),
            _ => {}
        }
    }
    let filter = AuditFilter {
        action: some(&f.action),
        stack_id: some(&f.stack),
        integration_id: match some(&f.integration) {
            Some(typed) => Some(integration_id(&state, signed.caller(), typed).await?),
            None => None,
        },
        outcome: some(&f.outcome),
        since: some(&since(&f.since)),
        limit: Some(50),
        cursor,
        ..AuditFilter::default()
    };
    let listed = Listed::of(audit::list(&state, signed.caller(), &filter).await)?;
    let status = listed.status();
    let rows = listed
        .items
        .into_iter()
        .map(|e| {
            let detail = e.full_detail();
            Row {
                at: when(&e.at),
                ok: e.outcome == "ok",
                outcome: e.counted_outcome(),
                action: e.action,
                target: e.target,
                key: e.key_id.unwrap_or_default(),
                stack: e.stack_id.unwrap_or_default(),
                summary: summary(&detail),
                detail,
            }
        })
        .collect();
    let next = listed.next_cursor.map(|c| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("stack", &f.stack)
            .append_pair("integration", &f.integration)
            .append_pair("action", &f.action)
            .append_pair("outcome", &f.outcome)
            .append_pair("since", &f.since)
            .append_pair("cursor", &c)
            .finish();
        format!("/audit?{query}")
    });
    Ok(render(
        status,
        &AuditPage {
            nav: signed.nav("audit"),
            rows,
            f,
            error: listed.error,
            next,
            actions: &audit_words::ACTIONS,
            outcomes: audit_words::OUTCOMES
                .into_iter()
                .chain(ProblemCode::ALL.iter().map(|c| c.as_str()))
                .collect(),
        },
    ))
}
