//! The loopback credentials endpoint behind `deputy exec --refresh`: the
//! AWS SDKs' container-credentials provider polls it, and it renews the
//! session from the broker before expiry, so an apply that outlives one
//! session keeps working without static keys.
//!
//! Bound to 127.0.0.1 on a random port, and answering only requests that
//! carry a random token passed to the child in its environment.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use rand::RngCore;
use tokio::sync::Mutex;

use super::mask::Secrets;
use super::run_credentials::{RunArgs, RunCredentials, fetch};

struct Shared {
    args: RunArgs,
    token: String,
    refresh_before: i64,
    current: Mutex<RunCredentials>,
    /// Every credential handed to the child, masked in its output.
    secrets: Secrets,
}

fn expires_in(c: &RunCredentials) -> i64 {
    time::OffsetDateTime::parse(
        &c.expiration,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| (t - time::OffsetDateTime::now_utc()).whole_seconds())
    .unwrap_or(0)
}

/// Starts the endpoint; returns its URI and the token clients must send.
pub async fn start(
    args: RunArgs,
    first: RunCredentials,
    refresh_before: i64,
    secrets: Secrets,
) -> anyhow::Result<(String, String)> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let shared = Arc::new(Shared {
        args,
        token: token.clone(),
        refresh_before,
        current: Mutex::new(first),
        secrets,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let uri = format!("http://{}/credentials", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/credentials", axum::routing::get(credentials))
        .with_state(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((uri, token))
}

async fn credentials(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !same_token(presented.as_bytes(), shared.token.as_bytes()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut current = shared.current.lock().await;
    if expires_in(&current) < shared.refresh_before {
        match fetch(&shared.args).await {
            Ok(fresh) => {
                // Masked before the child can see them.
                shared.secrets.add(&fresh.secret_access_key);
                shared.secrets.add(&fresh.session_token);
                *current = fresh;
            }
            Err(e) => {
                eprintln!("deputy: could not renew AWS credentials: {e:#}");
                if expires_in(&current) <= 0 {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
        }
    }
    axum::Json(serde_json::json!({
        "AccessKeyId": current.access_key_id,
        "SecretAccessKey": current.secret_access_key,
        "Token": current.session_token,
        "Expiration": current.expiration,
    }))
    .into_response()
}

/// Compares without stopping at the first difference, so the time an
/// answer takes says nothing about how much of a guessed token was right.
fn same_token(presented: &[u8], expected: &[u8]) -> bool {
    presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
