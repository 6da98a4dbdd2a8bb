//! Signing in to the console: an admin key, posted once from the sign-in
//! form (never in a URL), is exchanged for a session. The browser holds a
//! random secret in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when
//! the broker serves TLS); the store holds its SHA-256. Every request
//! checks the session and the key behind it, so revoking or expiring the
//! key ends the session. Runner keys cannot sign in: they exist for runs.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies::{cookie, cookie_name, set_cookie};
use super::flash::{self, Once};
use super::form::{Failure, Fields};
use super::view::{Nav, render};
use crate::broker::auth::{self, Caller};
use crate::broker::error::ApiError;
use crate::broker::service::sessions::{self, Session};
use crate::broker::state::AppState;
use crate::model::secret::random_secret;
use crate::wire::KeyRole;

/// The session cookie. Over HTTPS its name carries the `__Host-` prefix:
/// a browser then takes it only with `Secure`, `Path=/` and no `Domain`,
/// so neither plain HTTP nor a sibling subdomain can set or shadow it.
const COOKIE: &str = "deputy_session";
/// The sign-in form's own CSRF token (double-submitted: cookie and field),
/// since there is no session yet to tie it to.
const SIGN_IN_COOKIE: &str = "deputy_sign_in";

/// A signed-in operator: the admin key's caller and the token forms must
/// carry.
pub struct Signed {
    session: Session,
    pub csrf: String,
    /// What this page says once (see `flash`).
    pub shown: Once,
}

impl Signed {
    /// The key the operator signed in with (an admin, write or read key):
    /// the caller of everything done from the console.
    pub fn caller(&self) -> &Caller {
        &self.session.admin
    }

    /// The navigation bar of a page in `section`, with the sign-out form.
    pub fn nav(&self, section: &'static str) -> Nav {
        let key = &self.caller().key;
        let space = key.space_id.as_ref().map_or("", |s| s.as_str());
        Nav {
            section,
            key_id: key.id.clone(),
            csrf: self.csrf.clone(),
            flash: self.shown.message.clone(),
            flash_refusal: self.shown.refusal,
            standing: format!("{} in {space}", key.role.as_str()),
            can_write: matches!(key.role, KeyRole::Admin | KeyRole::Write),
            can_admin: key.role == KeyRole::Admin,
            switcher: None,
        }
    }
}

/// A form posted by a signed-in operator, its CSRF token checked.
pub struct Posted {
    pub signed: Signed,
    pub fields: Fields,
}

/// Forms are small; anything bigger is not one of ours.
const MAX_FORM_BYTES: usize = 256 * 1024;

impl FromRequest<Arc<AppState>> for Posted {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Failure> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let body = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| Failure::Api(ApiError::Malformed("the form is too large".into())))?;
        let fields = Fields::parse(&body);
        if !auth::same(fields.get("csrf"), &signed.csrf) {
            return Err(Failure::Csrf);
        }
        Ok(Posted { signed, fields })
    }
}

/// Forms carry a token derived from the session secret: a page from
/// another site cannot read it, and nothing more has to be stored.
fn csrf_of(secret: &str) -> String {
    auth::hash(&format!("deputy-console-csrf:{secret}"))
}

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Failure> {
        let secret =
            cookie(&parts.headers, &cookie_name(state, COOKIE)).ok_or(Failure::SignedOut)?;
        let session = sessions::find(state, secret)
            .await?
            .ok_or(Failure::SignedOut)?;
        Ok(Signed {
            session,
            csrf: csrf_of(secret),
            shown: flash::read(state, &parts.headers),
        })
    }
}

#[derive(askama::Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    csrf: String,
    error: String,
    /// "Signed out.", once.
    flash: String,
}

/// The sign-in form, with a fresh double-submit token.
pub async fn form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let shown = flash::read(&state, &headers);
    page(&state, StatusCode::OK, String::new(), shown.message)
}

fn page(state: &AppState, status: StatusCode, error: String, flash: String) -> Response {
    let csrf = random_secret();
    let mut response = render(
        status,
        &SignInPage {
            csrf: csrf.clone(),
            error,
            flash,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SIGN_IN_COOKIE, &csrf, 600),
    );
    response
}

pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let expected = cookie(&headers, &cookie_name(&state, SIGN_IN_COOKIE)).unwrap_or_default();
    if expected.is_empty() || !auth::same(fields.get("csrf"), expected) {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "The sign-in form had expired. Enter your key again.".into(),
            String::new(),
        );
    }
    let token = fields.get("key");
    let caller = match auth::authenticate_key(&state, token).await {
        Ok(caller) => caller,
        Err(e) => {
            let e = auth::trace_failure(&state, &extensions, token, e).await;
            let message = match e {
                ApiError::Internal(_) => {
                    "The broker could not check the key; its log has the cause.".into()
                }
                e => format!("{e}."),
            };
            return page(&state, StatusCode::UNAUTHORIZED, message, String::new());
        }
    };
    let opened = match sessions::open(&state, &caller).await {
        Ok(opened) => opened,
        Err(ApiError::Forbidden(_)) => {
            return page(
                &state,
                StatusCode::FORBIDDEN,
                "This is a runner key: runner keys only get credentials for runs. Sign in with an admin key."
                    .into(),
                String::new(),
            );
        }
        Err(e) => return Failure::Api(e).into_response(),
    };
    let mut response = Redirect::to("/integrations").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, COOKIE, &opened.secret, opened.seconds),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, SIGN_IN_COOKIE, "", 0),
    );
    response
}

pub async fn sign_out(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    if let Err(e) = sessions::close(&state, &posted.signed.session).await {
        return Failure::Api(e).into_response();
    }
    let mut response = flash::done(&state, "/sign-in", "Signed out.");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, COOKIE, "", 0));
    response
}
