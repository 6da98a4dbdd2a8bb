//! A flood of forged keys and tokens costs the store a few rows: failed
//! authentications are counted per source and reason within a window
//! (`broker/failed_auth.rs`), with every text they carry bounded.

use deputy::broker::failed_auth::KINDS_PER_WINDOW;
use deputy::broker::store::{Page, Store};
use deputy::model::secret::random_hex;
use deputy::wire::{AuditEvent, AuditFilter, StackInput};
use futures::StreamExt;

use crate::support::{Backend, TestBroker};
use testkit::on_both;

const FORGED: usize = 10_000;
const IN_FLIGHT: usize = 16;

/// A header value of ~16 KB with the shape of a key or an ID token.
fn forged(n: usize) -> String {
    let filler = "A".repeat(16 * 1024);
    match n % 3 {
        // A key with a well-formed (random) id and a huge secret.
        0 => format!("Bearer dpk_{}_{filler}", random_hex(8)),
        // An ID token naming a made-up issuer, with a 16 KB `kid` and
        // terminal escapes in it.
        1 => {
            let header = b64(&serde_json::json!({
                "alg": "RS256",
                "kid": format!("\u{1b}]0;owned\u{7}{filler}"),
            }));
            let claims = b64(&serde_json::json!({
                "iss": format!("https://issuer-{n}.example"),
                "sub": "repo:acme/net",
            }));
            format!("Bearer {header}.{claims}.c2ln")
        }
        // Neither.
        _ => format!("Bearer {filler}{n}"),
    }
}

fn b64(v: &serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

on_both!(
    a_flood_of_forged_credentials_costs_a_few_rows,
    |backend| async move {
        let mut b = TestBroker::start(backend).await;
        let admin = b.admin();
        admin
            .create_stack(&StackInput {
                id: "net".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let before = b.sqlite_bytes();
        let http = reqwest::Client::new();
        let url = b.url("/v1/credentials");
        let statuses: Vec<u16> = futures::stream::iter(0..FORGED)
            .map(|n| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    http.post(&url)
                        .header("authorization", forged(n))
                        .json(&serde_json::json!({"phase": "write", "run_id": "x"}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        assert!(
            statuses.iter().all(|s| *s == 401),
            "every forged request is refused"
        );

        // The broker still answers its own callers.
        admin.stack("net").await.unwrap();
        let written = admin
            .audit(&AuditFilter {
                action: Some("auth.failed".into()),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            written.len() <= KINDS_PER_WINDOW,
            "{} rows written during the window for {FORGED} failures",
            written.len()
        );
        if backend == Backend::Sqlite {
            let grown = b.sqlite_bytes().saturating_sub(before);
            assert!(grown < 1 << 20, "the store grew by {grown} bytes");
        }

        // Shutting down writes the window's counts: every failure is accounted
        // for, in bounded, printable rows.
        b.stop().await;
        let store = Store::open(b.store_url()).await.unwrap();
        let rows: Vec<AuditEvent> = store
            .audit(
                &AuditFilter {
                    action: Some("auth.failed".into()),
                    ..Default::default()
                },
                &Page::all(),
            )
            .await
            .unwrap();
        assert!(
            rows.len() <= 2 * KINDS_PER_WINDOW + 1,
            "{} rows",
            rows.len()
        );
        let counted: u64 = rows.iter().map(|e| e.count).sum();
        assert_eq!(counted, FORGED as u64);
        for row in &rows {
            assert!(row.detail.chars().count() <= 400, "{}", row.detail.len());
            assert!(
                !row.detail.chars().any(char::is_control),
                "{:?}",
                row.detail
            );
            assert!(row.source.is_some());
            assert_eq!(row.last_at.is_some(), row.count > 1, "{row:?}");
        }
        if backend == Backend::Sqlite {
            let grown = b.sqlite_bytes().saturating_sub(before);
            assert!(grown < 1 << 20, "the store grew by {grown} bytes");
        }
    }
);
