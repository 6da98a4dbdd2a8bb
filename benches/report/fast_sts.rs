//! A fast STS stand-in for measuring the broker's own cost per vend.
//!
//! The emulator the tests use (fakecloud, a debug build) spends
//! milliseconds per call, which would drown the broker's share. This stand-in
//! answers the three calls the broker makes (AssumeRole, AssumeRole
//! without an External ID during verification, GetCallerIdentity) in
//! microseconds, and still enforces the one rule that matters here: a role
//! is only assumable with one of the External IDs it was given.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub struct FastSts {
    pub endpoint: String,
    trust: Trust,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// External IDs each role accepts.
type Trust = Arc<RwLock<HashMap<String, HashSet<String>>>>;

impl FastSts {
    /// Serves on a loopback port, on its own thread and runtime, so its
    /// work is not scheduled behind the broker's.
    pub fn start() -> FastSts {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let trust = Trust::default();
        let served = trust.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new()
                    .route("/", axum::routing::post(answer))
                    .with_state(served);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        FastSts {
            endpoint: format!("http://{addr}"),
            trust,
            shutdown: Some(tx),
        }
    }

    /// Lets `role` be assumed with any of `external_ids` (and nothing else).
    pub fn trust(&self, role: &str, external_ids: impl IntoIterator<Item = String>) {
        self.trust
            .write()
            .unwrap()
            .insert(role.to_string(), external_ids.into_iter().collect());
    }
}

impl Drop for FastSts {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

const ACCOUNT: &str = "123456789012";

async fn answer(State(trust): State<Trust>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    match field("Action") {
        "GetCallerIdentity" => xml(
            "GetCallerIdentity",
            &format!(
                "<Arn>arn:aws:iam::{ACCOUNT}:root</Arn><UserId>{ACCOUNT}</UserId><Account>{ACCOUNT}</Account>"
            ),
        ),
        "AssumeRole" => {
            let role = field("RoleArn");
            let allowed = trust
                .read()
                .unwrap()
                .get(role)
                .is_some_and(|ids| form.get("ExternalId").is_some_and(|id| ids.contains(id)));
            if !allowed {
                return denied(role);
            }
            let name = role.rsplit('/').next().unwrap_or_default();
            let session = field("RoleSessionName");
            let expiration = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
                .replace_nanosecond(0)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let secret = ulid::Ulid::new();
            xml(
                "AssumeRole",
                &format!(
                    "<AssumedRoleUser><AssumedRoleId>AROAFASTSTANDIN:{session}</AssumedRoleId>\
                     <Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}</Arn></AssumedRoleUser>\
                     <Credentials><AccessKeyId>ASIAFASTSTANDIN00001</AccessKeyId>\
                     <SecretAccessKey>{secret}</SecretAccessKey><SessionToken>token-{secret}</SessionToken>\
                     <Expiration>{expiration}</Expiration></Credentials>"
                ),
            )
        }
        other => (
            StatusCode::BAD_REQUEST,
            format!("unsupported action {other}"),
        )
            .into_response(),
    }
}

fn xml(action: &str, result: &str) -> Response {
    (
        [("content-type", "text/xml")],
        format!(
            "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>fast-sts</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
        .into_response()
}

fn denied(role: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [("content-type", "text/xml")],
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole on {role}</Message>\
             </Error><RequestId>fast-sts</RequestId></ErrorResponse>"
        ),
    )
        .into_response()
}
