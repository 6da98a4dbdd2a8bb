//! Asking before a destructive action: revoking a key, detaching a stack,
//! deleting anything. The list or page links to a confirmation page (a
//! GET) that names the object and says what will happen; only its form
//! carries the confirmation the action's POST demands, so no single click
//! and no stale form can destroy anything. Where a slip would hurt most
//! (deleting an integration, revoking an admin key) the operator types the
//! object's name, as mature consoles ask.

use std::future::Future;

use axum::http::StatusCode;
use axum::response::Response;

use super::flash;
use super::form::Fields;
use super::session::{Posted, Signed};
use super::view::{Nav, render};
use crate::broker::error::ApiResult;
use crate::broker::state::AppState;

/// A destructive action and how to confirm it.
pub struct Confirm {
    /// The page's question: "Revoke key 01J…?".
    pub title: String,
    /// What happens, for whom, in a sentence or two.
    pub consequence: String,
    /// Where the confirmed form posts.
    pub action: String,
    /// The button's words ("Revoke key 01J…"): they name the object.
    pub button: String,
    /// What must be typed to confirm, when a click is not enough.
    pub typed: Option<String>,
    /// Where Cancel leads.
    pub back: String,
    /// The navigation section the page belongs to.
    pub section: &'static str,
}

#[derive(askama::Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage<'a> {
    nav: Nav,
    c: &'a Confirm,
    error: String,
}

impl Confirm {
    /// The page that asks, as a GET of the action's path answers.
    pub fn ask(&self, signed: &Signed) -> Response {
        self.page(signed, StatusCode::OK, String::new())
    }

    /// Whether the posted form is this page's, confirmed.
    pub fn given(&self, fields: &Fields) -> bool {
        match &self.typed {
            Some(name) => fields.get("confirm") == name,
            None => fields.get("confirmed") == "yes",
        }
    }

    /// The confirmation page, with `error` above the form (a name typed
    /// wrong, or why the broker refused the action).
    pub fn page(&self, signed: &Signed, status: StatusCode, error: String) -> Response {
        render(
            status,
            &ConfirmPage {
                nav: signed.nav(self.section),
                c: self,
                error,
            },
        )
    }

    /// The answer to a post that is not confirmed: the page again, saying
    /// why when something was typed.
    pub fn asked_again(&self, signed: &Signed, fields: &Fields) -> Response {
        match &self.typed {
            Some(name) if fields.sent("confirm") => self.page(
                signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("That is not {name}: type the name exactly, or cancel."),
            ),
            _ => self.page(signed, StatusCode::OK, String::new()),
        }
    }

    /// The answer to the action's post: this page again when it is not
    /// confirmed (`action` is then never run); otherwise `action`'s
    /// outcome, a redirect to `to` whose page says `done`, or this page
    /// with why the broker refused (the last admin key, say).
    pub async fn act(
        &self,
        state: &AppState,
        posted: &Posted,
        action: impl Future<Output = ApiResult<()>>,
        to: &str,
        done: &str,
    ) -> Response {
        if !self.given(&posted.fields) {
            return self.asked_again(&posted.signed, &posted.fields);
        }
        match action.await {
            Ok(()) => flash::done(state, to, done),
            Err(e) => self.page(&posted.signed, e.status(), e.problem().detail),
        }
    }
}
