//! The console's stylesheet and script, compiled into the binary: the
//! console needs no network and no build step. Browsers keep them and ask
//! again with their ETag (a hash of the content), so a page load costs a
//! 304 instead of both files, and a new binary's files are never missed.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::model::secret::sha256_hex;

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

fn etag(content: &str) -> HeaderValue {
    let hex = sha256_hex(content, 8);
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
}

static CSS_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(CSS));
static JS_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(JS));

fn serve(
    headers: &HeaderMap,
    content: &'static str,
    kind: &'static str,
    tag: &HeaderValue,
) -> Response {
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent == tag);
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, kind)], content).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, tag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn css(headers: HeaderMap) -> Response {
    serve(&headers, CSS, "text/css; charset=utf-8", &CSS_ETAG)
}

pub async fn js(headers: HeaderMap) -> Response {
    serve(&headers, JS, "text/javascript; charset=utf-8", &JS_ETAG)
}
