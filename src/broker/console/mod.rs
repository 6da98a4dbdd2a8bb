//! The console: the pages an operator clicks, served by `deputy serve` at
//! `/` next to the API, rendered on the server from the templates in
//! `templates/console/` (askama, compiled into the binary) with one
//! stylesheet and one small script, both embedded. Every page works without
//! JavaScript; the script adds copy buttons, and the clock and the retries
//! of a running verification.
//!
//! Pages call the API's own handlers with the signed-in key (an admin,
//! write or read key: controls its role cannot use are not shown), so
//! validation, messages, audit events and verification are the API's and
//! are never written twice.
//!
//! - [`session`]: sign-in with an admin key, the session cookie, sign-out;
//! - [`cookies`]: how the console's cookies are read, named and set;
//! - [`every`]: whole lists from the API's pages;
//! - [`form`]: posted forms (each CSRF-checked) and the console's errors;
//! - [`flash`]: what the page after a change says once (post/redirect/get);
//! - [`confirm`]: the page that asks before a destructive action;
//! - [`view`]: what every page shares (navigation, formatting);
//! - [`integrations`]: the list, the integration's tabs, Verify;
//! - [`integration_form`]: creating and editing an integration;
//! - [`attachments`]: attaching, changing and detaching stacks;
//! - [`spaces`]: the tree, and creating a space;
//! - [`stacks`], [`keys`], [`runner_trusts`], [`audit`]: their pages;
//! - [`assets`]: the stylesheet and script.

mod assets;
mod attachments;
mod audit;
mod confirm;
mod cookies;
mod every;
mod flash;
mod form;
mod integration_form;
mod integrations;
mod keys;
mod runner_trusts;
mod session;
mod spaces;
mod stacks;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};

use super::state::AppState;

/// The console's routes. They live outside `/v1`, and outside the API's
/// route list (and so its OpenAPI document): they answer HTML to browsers.
/// A destructive action's path answers GET with its confirmation page.
pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/integrations") }))
        .route("/sign-in", get(session::form).post(session::sign_in))
        .route("/sign-out", post(session::sign_out))
        .route("/assets/console.css", get(assets::css))
        .route("/assets/console.js", get(assets::js))
        .route(
            "/integrations",
            get(integrations::list).post(integration_form::create),
        )
        .route("/integrations/new", get(integration_form::new))
        .route("/integrations/{id}", get(integrations::overview))
        .route(
            "/integrations/{id}/edit",
            get(integration_form::edit).post(integration_form::update),
        )
        .route(
            "/integrations/{id}/delete",
            get(integration_form::confirm_delete).post(integration_form::delete),
        )
        .route("/integrations/{id}/verify", post(integrations::verify))
        .route(
            "/integrations/{id}/verification-progress",
            get(integrations::progress),
        )
        .route(
            "/integrations/{id}/attachments",
            get(integrations::attachments).post(attachments::attach),
        )
        .route(
            "/integrations/{id}/attachments/{stack}",
            post(attachments::update),
        )
        .route(
            "/integrations/{id}/attachments/{stack}/detach",
            get(attachments::confirm_detach).post(attachments::detach),
        )
        .route(
            "/integrations/{id}/trust-policy",
            get(integrations::trust_policy),
        )
        .route(
            "/integrations/{id}/role-template",
            get(integrations::role_template),
        )
        .route("/stacks", get(stacks::list).post(stacks::create))
        .route("/stacks/new", get(stacks::new))
        .route("/stacks/{id}", get(stacks::page))
        .route("/stacks/{id}/edit", get(stacks::edit).post(stacks::update))
        .route(
            "/stacks/{id}/delete",
            get(stacks::confirm_delete).post(stacks::delete),
        )
        .route("/keys", get(keys::list).post(keys::create))
        .route(
            "/keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route(
            "/runner-trusts",
            get(runner_trusts::list).post(runner_trusts::create),
        )
        .route(
            "/runner-trusts/{id}/delete",
            get(runner_trusts::confirm_delete).post(runner_trusts::delete),
        )
        .route("/audit", get(audit::list))
        .route("/spaces", get(spaces::list).post(spaces::create))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            flash::shown_once,
        ))
        .layer(axum::middleware::map_response(protected))
}

/// Headers every console answer carries. The policy allows only this
/// origin's stylesheet and script, no inline script or style, no framing,
/// and forms that post back here only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn protected(mut response: axum::response::Response) -> axum::response::Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
