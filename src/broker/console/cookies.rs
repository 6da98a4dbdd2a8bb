//! The console's cookies: how they are read, named (`__Host-` over HTTPS,
//! so neither plain HTTP nor a sibling subdomain can set or shadow them)
//! and set (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS).

use axum::http::{HeaderMap, HeaderValue, header};

use crate::broker::state::AppState;

/// The value of the cookie `name` a request carries.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A cookie's name as this broker uses it: `__Host-` prefixed over HTTPS.
pub fn cookie_name(state: &AppState, base: &str) -> String {
    if state.settings.https {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// A cookie only this origin's pages send back, over HTTPS only when the
/// broker serves it; `max_age` 0 clears it.
pub fn set_cookie(state: &AppState, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.https { "; Secure" } else { "" };
    let name = cookie_name(state, base);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base64url and digits")
}
