//! The loopback credentials endpoint behind `deputy exec --refresh`: the
//! AWS SDKs' container-credentials provider polls it, and a background
//! task renews the session from the broker before expiry, so an apply
//! that outlives one session keeps working without static keys.
//!
//! Bound to 127.0.0.1 on a random port, and answering only requests that
//! carry a random token passed to the child in its environment.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tokio::sync::watch;

use super::mask::Secrets;
use super::run_credentials::{RunArgs, RunCredentials, fetch};
use crate::model::secret::random_secret;

/// Least time between two renewals, even when `--refresh-before` exceeds
/// a session's whole lifetime: the broker limits requests per caller.
const MIN_RENEWAL_INTERVAL: i64 = 5;
/// Wait after a failed renewal before trying again.
const RETRY_AFTER_FAILURE: i64 = 10;

struct Shared {
    token: String,
    current: watch::Receiver<RunCredentials>,
}

fn expires_in(c: &RunCredentials) -> i64 {
    crate::model::timestamp::parse(&c.expiration)
        .map_or(0, |t| (t - time::OffsetDateTime::now_utc()).whole_seconds())
}

/// Starts the endpoint and its renewer; returns its URI and the token
/// clients must send.
pub async fn start(
    args: RunArgs,
    first: RunCredentials,
    refresh_before: i64,
    secrets: Secrets,
) -> anyhow::Result<(String, String)> {
    let token = random_secret();
    let (publish, current) = watch::channel(first);
    tokio::spawn(renew(args, publish, refresh_before, secrets));
    let shared = Arc::new(Shared {
        token: token.clone(),
        current,
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

/// Renews in the background, `refresh_before` seconds before expiry, so a
/// poll never waits on the broker: the endpoint always answers at once
/// with the current credentials.
async fn renew(
    args: RunArgs,
    publish: watch::Sender<RunCredentials>,
    refresh_before: i64,
    secrets: Secrets,
) {
    let mut wait = (expires_in(&publish.borrow()) - refresh_before).max(MIN_RENEWAL_INTERVAL);
    loop {
        tokio::time::sleep(Duration::from_secs(wait as u64)).await;
        wait = match fetch(&args).await {
            Ok(fresh) => {
                // Masked before the child can see them.
                secrets.add(&fresh.secret_access_key);
                secrets.add(&fresh.session_token);
                let next = (expires_in(&fresh) - refresh_before).max(MIN_RENEWAL_INTERVAL);
                publish.send_replace(fresh);
                next
            }
            Err(e) => {
                eprintln!("deputy: could not renew AWS credentials: {e:#}");
                RETRY_AFTER_FAILURE
            }
        };
    }
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
    let current = shared.current.borrow().clone();
    if expires_in(&current) <= 0 {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
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
