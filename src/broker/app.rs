//! The broker's whole web application: the API (`http`) and the console
//! (`console`) side by side, a problem-details answer for anything else,
//! and what every request goes through: a request id, counting and
//! timing, no caching, and HSTS when browsers reach it over HTTPS.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::Method;

use super::error::ApiError;
use super::state::AppState;
use super::{console, http, request_id};

/// The router `deputy serve` serves.
pub fn router(state: Arc<AppState>) -> Router {
    http::router()
        .merge(console::router(&state))
        .fallback(|uri: axum::http::Uri| async move { ApiError::not_found("route", uri.path()) })
        .method_not_allowed_fallback(|method: Method, uri: axum::http::Uri| async move {
            ApiError::MethodNotAllowed(format!(
                "{method} is not allowed on {}; see /v1/openapi.json",
                uri.path()
            ))
        })
        .layer(axum::middleware::map_response(no_store))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            strict_transport,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), counted))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Counts and times every request by its route template, and tells the
/// store of a write it refused in any of them (for `/readyz`).
async fn counted(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    // Any token is a valid method to HTTP: only the ones routes use are
    // labels of their own.
    let method = match *request.method() {
        Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            request.method().as_str().to_string()
        }
        _ => "other".to_string(),
    };
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    if let Some(code) = response.extensions().get::<crate::wire::ProblemCode>() {
        state.metrics.problem(*code);
    }
    if response
        .extensions()
        .get::<crate::broker::error::RefusedWrite>()
        .is_some()
    {
        state.store.refused_write();
    }
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// No cache (a browser's, a proxy's) may keep an answer: some carry
/// secrets (credentials, new API keys), and every one is about state that
/// changes. Only an answer that set its own policy keeps it (the console's
/// stylesheet and script, revalidated by ETag).
async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}

/// Over HTTPS, every answer tells the browser to use nothing else for this
/// host for a year (HSTS), so a later plain-HTTP link cannot carry the
/// session cookie or a key typed into the console.
async fn strict_transport(
    State(state): State<Arc<AppState>>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    if state.settings.https {
        response.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
