//! deputy-emulator: fakecloud's IAM and STS, and nothing else, on one port.
//!
//! The quickstart runs offline against an AWS emulator whose STS evaluates
//! role trust policies (sts:ExternalId included) with IAM's rules, code no
//! one here wrote: fakecloud 0.51.0 (AGPL-3.0-or-later). The full `fakecloud`
//! binary links about a hundred service crates and takes 15 to 30 minutes
//! to build; this one links only `fakecloud-core` (routing, SigV4 parsing)
//! and `fakecloud-iam` (the IAM and STS services), and builds in minutes.
//!
//! It is wired the way fakecloud's own `main` wires those two services: one
//! shared IAM state, the `IamService` and `StsService` in a registry, core's
//! `dispatch` as the fallback handler (it routes by the SigV4 credential
//! scope, else by the Query `Action`), the IAM credential resolver so an
//! access key resolves to its user or assumed-role session, and
//! `GET /_fakecloud/health`. Same command line as far as the quickstart goes:
//! `deputy-emulator --addr 127.0.0.1:PORT --log-level warn`. State lives in
//! memory; account 123456789012, region us-east-1; any access key starting
//! with `test` is the account root, as in fakecloud.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use fakecloud_core::dispatch::{self, DispatchConfig};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;
use fakecloud_iam::SharedIamState;
use fakecloud_iam::credential_resolver::IamCredentialResolver;
use fakecloud_iam::iam_service::IamService;
use fakecloud_iam::sts_service::StsService;

/// fakecloud's defaults for --account-id and --region.
const ACCOUNT_ID: &str = "123456789012";
const REGION: &str = "us-east-1";
/// The fakecloud release whose services these are, reported by the health
/// check.
const FAKECLOUD_VERSION: &str = "0.51.0";

fn fail(message: String) -> ! {
    eprintln!("deputy-emulator: {message}");
    std::process::exit(2)
}

/// `--addr` and `--log-level` (either `--flag value` or `--flag=value`),
/// with fakecloud's defaults and environment variables.
fn parse_args() -> (String, String) {
    let mut addr = std::env::var("FAKECLOUD_ADDR").unwrap_or_else(|_| "0.0.0.0:4566".into());
    let mut log_level = std::env::var("FAKECLOUD_LOG").unwrap_or_else(|_| "info".into());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let slot = match flag.as_str() {
            "--addr" => &mut addr,
            "--log-level" => &mut log_level,
            "-h" | "--help" => {
                println!("usage: deputy-emulator [--addr HOST:PORT] [--log-level LEVEL]");
                std::process::exit(0)
            }
            _ => fail(format!("unknown argument {flag}")),
        };
        *slot = inline
            .or_else(|| args.next())
            .unwrap_or_else(|| fail(format!("{flag} needs a value")));
    }
    (addr, log_level)
}

/// Ctrl-C or SIGTERM, which the quickstart sends when it cleans up.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .unwrap_or_else(|e| fail(format!("cannot listen for SIGTERM: {e}")));
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() {
    let (addr, log_level) = parse_args();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&log_level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| fail(format!("failed to bind {addr}: {e}")));
    let bound = listener
        .local_addr()
        .unwrap_or_else(|e| fail(format!("failed to read the bound address: {e}")));
    // fakecloud's port handshake line, for callers that pass port 0.
    println!("FAKECLOUD_PORT={}", bound.port());
    let host = match bound.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let endpoint = format!("http://{host}:{}", bound.port());

    let iam_state: SharedIamState = Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
        ACCOUNT_ID, REGION, &endpoint,
    )));
    let mut registry = ServiceRegistry::new();
    registry.register(Arc::new(IamService::new(iam_state.clone())));
    registry.register(Arc::new(StsService::new(iam_state.clone())));
    let services: Vec<String> = registry
        .service_names()
        .iter()
        .map(|s| s.to_string())
        .collect();

    // No SigV4 verification and no identity-policy enforcement (fakecloud's
    // defaults); the resolver gives each request its caller, which is what
    // AssumeRole's trust-policy evaluation and GetCallerIdentity need.
    let mut config = DispatchConfig::new(REGION, ACCOUNT_ID);
    config.credential_resolver = Some(IamCredentialResolver::shared(iam_state));

    let app = Router::new()
        .route(
            "/_fakecloud/health",
            get(move || async move {
                Json(serde_json::json!({
                    "status": "ok",
                    "version": FAKECLOUD_VERSION,
                    "services": services,
                }))
            }),
        )
        .fallback(dispatch::dispatch)
        .layer(Extension(Arc::new(registry)))
        .layer(Extension(Arc::new(config)));

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .unwrap_or_else(|e| fail(format!("server error: {e}")));
}
