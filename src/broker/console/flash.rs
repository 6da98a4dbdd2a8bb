//! What the next page says once: every change the console makes answers
//! with a redirect (post/redirect/get, so a reload repeats nothing), and
//! the page it leads to says what was done ("Stack net deleted."). A new
//! API key's secret reaches the one page that shows it the same way.
//!
//! Both travel in cookies the broker sets with each redirect (`HttpOnly`,
//! `SameSite=Strict`; `__Host-` over HTTPS, where no other site, sibling
//! subdomain or plain-HTTP page can set them) that live a minute at most:
//! the next HTML page clears them in its answer ([`shown_once`]), so a
//! reload shows neither again. The message is one the broker wrote, never
//! text from a URL, so no link can make the console say something.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cookies::{cookie, cookie_name, set_cookie};
use crate::broker::state::AppState;
use crate::model::outsider::bounded;

/// The message cookie.
const MESSAGE: &str = "deputy_flash";
/// The cookie carrying a new key's secret to the keys page.
const SECRET: &str = "deputy_new_key";
/// Long enough for the redirect to be followed on a slow link, short
/// enough that nothing lingers if it is not.
const SECONDS: i64 = 60;
/// A message is a sentence or two.
const MAX_CHARS: usize = 400;

/// What the page being rendered shows once.
#[derive(Default)]
pub struct Once {
    /// What the last change did, or "".
    pub message: String,
    /// Whether the message says why something could not be done.
    pub refusal: bool,
    /// A key created a moment ago: its secret, for the keys page only.
    pub secret: Option<String>,
}

/// A redirect to `to` whose page says `message`.
pub fn done(state: &AppState, to: &str, message: &str) -> Response {
    redirect(state, to, message, DONE)
}

/// A redirect to `to` whose page says why something could not be done.
pub fn refused(state: &AppState, to: &str, message: &str) -> Response {
    redirect(state, to, message, REFUSED)
}

/// The cookie value's first characters: what kind of message follows.
const DONE: &str = "d.";
const REFUSED: &str = "r.";

fn redirect(state: &AppState, to: &str, message: &str, kind: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    let value = format!(
        "{kind}{}",
        URL_SAFE_NO_PAD.encode(bounded(message, MAX_CHARS))
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, MESSAGE, &value, SECONDS),
    );
    response
}

/// A redirect to `to` whose page shows `secret` once (a new key's token;
/// the URL never holds it).
pub fn revealing(state: &AppState, to: &str, message: &str, secret: &str) -> Response {
    let mut response = done(state, to, message);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SECRET, secret, SECONDS),
    );
    response
}

/// What this request's cookies carry for its page.
pub fn read(state: &AppState, headers: &HeaderMap) -> Once {
    let value = cookie(headers, &cookie_name(state, MESSAGE)).unwrap_or_default();
    let refusal = value.starts_with(REFUSED);
    let message = value
        .strip_prefix(DONE)
        .or_else(|| value.strip_prefix(REFUSED))
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(|text| bounded(&text, MAX_CHARS))
        .unwrap_or_default();
    // Tokens are base64url after their prefix: anything else is not ours.
    let secret = cookie(headers, &cookie_name(state, SECRET))
        .filter(|v| {
            v.len() <= 200
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .map(str::to_string);
    Once {
        message,
        refusal,
        secret,
    }
}

/// Middleware: an HTML page (not a redirect, not the JSON a page polls, not
/// a download) answering a request that carried a message or a secret
/// clears them, so they are shown once.
pub async fn shown_once(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let carried: Vec<&str> = [MESSAGE, SECRET]
        .into_iter()
        .filter(|name| cookie(request.headers(), &cookie_name(&state, name)).is_some())
        .collect();
    let mut response = next.run(request).await;
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if page && !response.status().is_redirection() {
        for name in carried {
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(&state, name, "", 0));
        }
    }
    response
}
