//! Liveness, readiness, metrics and the API document. No key needed:
//! probes and scrapers carry none, and none of these answers holds an id
//! or a secret.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::super::state::AppState;

/// The process is up.
#[utoipa::path(
    operation_id = "health_healthz",
    get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process is up.", body = String, content_type = "text/plain")),
)]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can serve: its store answered its last check (made every
/// second, so this never waits on the store) and it is not shutting down.
/// Ready answers carry a `warning:` line for each check verification
/// cannot make (no canary principal).
#[utoipa::path(
    operation_id = "health_readyz",
    get, path = "/readyz", tag = "health", security(()),
    responses(
        (status = 200, description = "The store answers; then a `warning:` line for each check verification cannot make.", body = String, content_type = "text/plain"),
        (status = 503, description = "The store does not answer, or refused a write and has not written since (a full disk, a read-only file or replica), or the broker is draining before it stops.", body = String, content_type = "text/plain"),
    ),
)]
pub async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n".to_string())
    } else if !state.store.is_up() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "store unreachable\n".to_string(),
        )
    } else if !state.store.can_write() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "store cannot write (full disk, read-only file or replica?)\n".to_string(),
        )
    } else {
        let mut body = "ready\n".to_string();
        if state.canary.is_none() {
            body.push_str(&format!(
                "warning: verification: {}\n",
                crate::sts::NO_CANARY
            ));
        }
        (StatusCode::OK, body)
    }
}

/// Counters, histograms and gauges for Prometheus.
#[utoipa::path(
    operation_id = "health_metrics",
    get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "Requests by route and status, vend and verification latency, STS errors by code, store pool use, in the OpenMetrics text format.", body = String, content_type = "application/openmetrics-text")),
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let (open, idle) = state.store.pool_use();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state
            .metrics
            .render(open, idle, state.store.is_up(), state.store.can_write()),
    )
}

#[utoipa::path(
    operation_id = "health_openapi",
    get, path = "/v1/openapi.json", tag = "health", security(()),
    responses((status = 200, description = "This document.", content_type = "application/json")),
)]
pub async fn openapi() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get_or_init(super::document).as_str(),
    )
}
