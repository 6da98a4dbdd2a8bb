//! Signing in to the console: an admin key, posted once from the sign-in
//! form (never in a URL), is exchanged for a session. The browser holds a
//! random secret in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when
//! the broker serves TLS); the store holds its SHA-256. Every request
//! checks the session and the key behind it, so revoking or expiring the
//! key ends the session. Runner keys cannot sign in: they exist for runs.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::form::{Failure, Fields, Posted};
use super::view::render;
use crate::api::KeyRole;
use crate::broker::api::{AppState, audit_event};
use crate::broker::auth::{self, Admin, Caller};
use crate::broker::error::ApiError;
use crate::model::timestamp::{self, now};

/// The session cookie.
const COOKIE: &str = "deputy_session";
/// The sign-in form's own CSRF token (double-submitted: cookie and field),
/// since there is no session yet to tie it to.
const SIGN_IN_COOKIE: &str = "deputy_sign_in";
/// A session lasts a working day, or until its key expires if sooner.
const LIFETIME: time::Duration = time::Duration::hours(8);

/// A signed-in operator: the admin key's caller and the token forms must
/// carry.
pub struct Signed {
    pub admin: Caller,
    pub csrf: String,
    id_hash: String,
}

impl Signed {
    /// The API's extractor value, for calling the API's handlers.
    pub fn admin(&self) -> Admin {
        Admin(self.admin.clone())
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Forms carry a token derived from the session secret: a page from
/// another site cannot read it, and nothing more has to be stored.
fn csrf_of(secret: &str) -> String {
    auth::hash(&format!("deputy-console-csrf:{secret}"))
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base64url and digits")
}

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Failure> {
        let secret = cookie(&parts.headers, COOKIE).ok_or(Failure::SignedOut)?;
        let id_hash = auth::hash(secret);
        let at = now();
        let key_id = state
            .store
            .session_key(&id_hash, &at)
            .await?
            .ok_or(Failure::SignedOut)?;
        let stored = state.store.key(&key_id).await?.ok_or(Failure::SignedOut)?;
        auth::usable(&stored.key, &at).map_err(|_| Failure::SignedOut)?;
        let Admin(admin) = Admin::of(Caller { key: stored.key }).map_err(|_| Failure::SignedOut)?;
        Ok(Signed {
            admin,
            csrf: csrf_of(secret),
            id_hash,
        })
    }
}

#[derive(askama::Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    csrf: String,
    error: String,
}

/// The sign-in form, with a fresh double-submit token.
pub async fn form(State(state): State<Arc<AppState>>) -> Response {
    page(&state, StatusCode::OK, String::new())
}

fn page(state: &AppState, status: StatusCode, error: String) -> Response {
    let csrf = auth::random_secret();
    let mut response = render(
        status,
        &SignInPage {
            csrf: csrf.clone(),
            error,
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
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same(fields.get("csrf"), expected) {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "The sign-in form had expired. Enter your key again.".into(),
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
            return page(&state, StatusCode::UNAUTHORIZED, message);
        }
    };
    let event = audit_event(
        Some(caller.key_id()),
        "console.sign_in",
        &format!("key/{}", caller.key_id()),
    );
    if caller.key.role == KeyRole::Runner {
        let refused = ApiError::Forbidden(
            "runner keys cannot sign in to the console: they only get credentials for runs".into(),
        );
        state.refused(event, refused).await;
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "This is a runner key: runner keys only get credentials for runs. Sign in with an admin key."
                .into(),
        );
    }
    let opened = time::OffsetDateTime::now_utc();
    let mut ends = opened + LIFETIME;
    if let Some(key_end) = caller.key.expires_at.as_deref().and_then(timestamp::parse) {
        ends = ends.min(key_end);
    }
    let secret = auth::random_secret();
    let stored = state
        .store
        .open_session(
            &auth::hash(&secret),
            caller.key_id(),
            &timestamp::format(opened),
            &timestamp::format(ends),
            &event,
        )
        .await;
    if let Err(e) = stored {
        return Failure::Api(e).into_response();
    }
    let mut response = Redirect::to("/integrations").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, COOKIE, &secret, (ends - opened).whole_seconds()),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, SIGN_IN_COOKIE, "", 0),
    );
    response
}

pub async fn sign_out(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    let signed = posted.signed;
    let event = audit_event(
        Some(signed.admin.key_id()),
        "console.sign_out",
        &format!("key/{}", signed.admin.key_id()),
    );
    if let Err(e) = state.store.close_session(&signed.id_hash, &event).await {
        return Failure::Api(e).into_response();
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, COOKIE, "", 0));
    response
}
