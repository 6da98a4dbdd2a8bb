//! What every console page shares: the navigation bar (with the sign-out
//! form and its CSRF token), rendering, and how values are shown.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::broker::error::{ApiError, ApiResult};
use crate::model::verification::Finding;
use crate::wire::{Integration, List, VerificationState};

/// The navigation bar of a signed-in page.
pub struct Nav {
    /// The section whose tab is current: integrations, stacks, keys,
    /// runner-trusts, audit.
    pub section: &'static str,
    pub key_id: String,
    pub csrf: String,
    /// What the last change did, shown once above the page.
    pub flash: String,
    /// Whether `flash` says why something could not be done.
    pub flash_refusal: bool,
    /// The key's role and space, as the bar says them (`write in team-a`).
    pub standing: String,
    /// Whether the key may change stacks (`write` or `admin`), and
    /// integrations, spaces and keys (`admin`): controls it cannot use
    /// are not shown (the broker refuses them anyway).
    pub can_write: bool,
    pub can_admin: bool,
    /// The space switcher, on lists that take a space.
    pub switcher: Option<Switcher>,
}

/// The space switcher: the spaces of the key's subtree, indented by
/// depth, and the one whose subtree the list shows.
pub struct Switcher {
    /// The list's path, where the switcher's form goes.
    pub action: &'static str,
    /// (id, label) pairs; the label is indented by depth.
    pub spaces: Vec<(String, String)>,
    pub current: String,
}

impl Switcher {
    /// The switcher of the list at `action`, showing `current` (empty:
    /// the key's own space) out of `spaces` (the key's subtree).
    pub fn new(action: &'static str, spaces: &[crate::wire::Space], current: &str) -> Switcher {
        let parent: std::collections::BTreeMap<&str, Option<&str>> = spaces
            .iter()
            .map(|s| (s.id.as_str(), s.parent_id.as_ref().map(|p| p.as_str())))
            .collect();
        // Depth-first from the spaces whose parent is not listed (the
        // key's own space), children by id.
        let mut out = Vec::new();
        let mut stack: Vec<(&str, usize)> = spaces
            .iter()
            .filter(|s| {
                s.parent_id
                    .as_ref()
                    .is_none_or(|p| !parent.contains_key(p.as_str()))
            })
            .map(|s| (s.id.as_str(), 0))
            .rev()
            .collect();
        while let Some((id, depth)) = stack.pop() {
            out.push((
                id.to_string(),
                format!("{}{id}", "\u{a0}\u{a0}".repeat(depth)),
            ));
            let mut children: Vec<&str> = parent
                .iter()
                .filter(|(_, p)| **p == Some(id))
                .map(|(c, _)| *c)
                .collect();
            children.sort_unstable();
            stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
        }
        Switcher {
            action,
            spaces: out,
            current: current.to_string(),
        }
    }
}

/// A page, or the error page if the template fails (it cannot with the
/// values we give it, but a failure must not become a blank 200).
pub fn render(status: StatusCode, page: &impl askama::Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// An instant as people read it: `2026-12-03 14:05:09 UTC` (stored ones
/// are fixed-width RFC 3339 with microseconds).
pub fn when(instant: &str) -> String {
    match (instant.get(..10), instant.get(11..19)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => instant.to_string(),
    }
}

/// An optional instant, or "never".
pub fn when_or_never(instant: Option<&str>) -> String {
    instant.map_or_else(|| "never".to_string(), when)
}

/// The badge of an integration's last verification: its word and its CSS
/// class. The API's state says whether the current configuration passed
/// the role-level probes; a verification whose confirmations failed (the
/// role does not accept an attached stack's External ID) leaves that state
/// standing, yet failed, and the badge says so: those runs get nothing. A
/// failed verification says what it found: a role open to others
/// (`unsafe`), one that refuses deputy (`not assumable`), or another STS
/// failure (`failed`).
pub fn badge(i: &Integration) -> (&'static str, &'static str) {
    let failed = i.last_verification.as_ref().filter(|r| !r.ok);
    match (i.verification_state, failed) {
        (VerificationState::Unverified, _) => ("unverified", "badge none"),
        (VerificationState::Verified, None) => ("verified", "badge ok"),
        (_, Some(r)) => match r.finding() {
            Finding::Unsafe { .. } => ("unsafe", "badge unsafe"),
            Finding::NotAssumable => ("not assumable", "badge bad"),
            Finding::Failed => ("failed", "badge bad"),
        },
        (VerificationState::Failed, None) => ("failed", "badge bad"),
    }
}

/// Whether any of `fields` holds `search` (case aside): a list's search
/// box looks through ids, names and labels.
pub fn found(search: &str, fields: &[&str]) -> bool {
    let search = search.to_lowercase();
    fields.iter().any(|f| f.to_lowercase().contains(&search))
}

/// The most rows a search shows; past it, the page asks for more words.
pub const FOUND_AT_MOST: usize = 100;

/// `k=v` lines, as label textareas show them.
pub fn pair_lines(map: &std::collections::BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A filtered list's answer: its items, or, when the API
/// refused the filters as typed, none and the reason to show above the
/// list (any other error is the error page).
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub error: String,
}

impl<T> Listed<T> {
    pub fn of(answer: ApiResult<List<T>>) -> ApiResult<Listed<T>> {
        match answer {
            Ok(list) => Ok(Listed {
                items: list.items,
                next_cursor: list.next_cursor,
                error: String::new(),
            }),
            Err(e @ (ApiError::Invalid { .. } | ApiError::Malformed(_))) => Ok(Listed {
                items: Vec::new(),
                next_cursor: None,
                error: e.to_string(),
            }),
            Err(e) => Err(e),
        }
    }

    /// 422 when the filters were refused.
    pub fn status(&self) -> StatusCode {
        if self.error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}
