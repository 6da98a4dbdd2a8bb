//! Request ids: every request gets one (the caller's, if it sent a usable
//! one, else a new ULID), answered in the `x-request-id` header and carried
//! by the span every log line of the request is written in, so a line in a
//! client's debug log finds the broker's lines for the same request.

use axum::http::HeaderValue;
use tracing::Instrument;

use crate::wire::REQUEST_ID_HEADER;

/// Longest caller-chosen id kept; longer or odd ones are replaced, so a
/// client cannot put arbitrary text into the broker's logs.
const MAX_LEN: usize = 64;

fn usable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub async fn assign(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable(v))
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_string);
    let value = HeaderValue::from_str(&id).expect("ids are ASCII letters, digits and -_.");
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, value.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "request served"
        )
    });
    response.headers_mut().insert(REQUEST_ID_HEADER, value);
    response
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn only_short_plain_ids_are_kept() {
        for (id, kept) in [
            ("01JQ3ZV8T4M5N6P7Q8R9S0T1V2", true),
            ("ci-run_42.attempt-1", true),
            ("", false),
            ("has space", false),
            ("line\nbreak", false),
            (&"x".repeat(65), false),
        ] {
            assert_eq!(usable(id), kept, "{id:?}");
        }
    }
}
