//! Vending while unauthenticated callers flood the broker with forged keys
//! and tokens: the latency of `POST /v1/credentials` for a real runner
//! quiet and under the flood, side by side in one run, and what the flood
//! cost the store. Failed authentications are counted per source and
//! reason (`broker/failed_auth.rs`), so the flood should cost a few rows
//! and leave the single SQLite writer to the vends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use deputy::model::secret::random_hex;
use futures::StreamExt;

use crate::broker::Backend;
use crate::fast_sts::FastSts;
use crate::report::{Section, ms, percentile};
use crate::vend::{Ready, ready, request};

const VENDS: usize = 1_000;
const FLOOD_IN_FLIGHT: usize = 16;
/// The size of each forged Authorization header.
const FORGED_BYTES: usize = 16 * 1024;

/// A forged Authorization header: a key with a random, well-formed id and
/// a huge secret, or an ID token naming a made-up issuer with a huge `kid`.
fn forged(n: usize) -> String {
    use base64::Engine;
    let filler = "A".repeat(FORGED_BYTES);
    if n.is_multiple_of(2) {
        return format!("Bearer dpk_{}_{filler}", random_hex(8));
    }
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "Bearer {}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256", "kid": filler})),
        b64(serde_json::json!({"iss": format!("https://issuer-{n}.example"), "sub": "x"}))
    )
}

async fn vends(ready: &Ready, offset: usize) -> Vec<Duration> {
    let mut took = Vec::with_capacity(VENDS);
    for n in 0..VENDS {
        let start = Instant::now();
        ready
            .runner
            .credentials(&request(offset + n))
            .await
            .unwrap();
        took.push(start.elapsed());
    }
    took.sort();
    took
}

pub async fn run() -> Section {
    let sts = FastSts::start();
    let ready = ready(Backend::Sqlite, &sts).await;
    let quiet = vends(&ready, 0).await;

    let before = ready.broker.sqlite_bytes();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let flood = {
        let (stop, sent) = (stop.clone(), sent.clone());
        let url = ready.broker.url("/v1/credentials");
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            futures::stream::iter(0..)
                .take_while(|_| std::future::ready(!stop.load(Ordering::Relaxed)))
                .for_each_concurrent(FLOOD_IN_FLIGHT, |n| {
                    let (http, url, sent) = (http.clone(), url.clone(), sent.clone());
                    async move {
                        let answer = http
                            .post(&url)
                            .header("authorization", forged(n))
                            .json(&serde_json::json!({"phase": "write", "run_id": "x"}))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(answer.status(), 401);
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .await;
        })
    };
    // Let the flood reach its pace before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let at_start = sent.load(Ordering::Relaxed);
    let flooded = vends(&ready, VENDS).await;
    let forged_per_second =
        (sent.load(Ordering::Relaxed) - at_start) as f64 / started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    flood.await.unwrap();
    let forged_total = sent.load(Ordering::Relaxed);
    let grown = ready.broker.sqlite_bytes().saturating_sub(before);

    let mut section = Section::new(
        "Vending under a flood of forged credentials",
        format!(
            "SQLite store, fast STS stand-in. {VENDS} sequential vends with a runner key on a \
             quiet broker, then {VENDS} more while {FLOOD_IN_FLIGHT} connections send forged \
             keys and ID tokens ({} KB Authorization headers: random well-formed key ids, \
             made-up issuers, huge `kid`s) as fast as the broker refuses them. Store growth \
             is the database and its write-ahead log over the whole flood, {} vends' audit \
             events included.",
            FORGED_BYTES / 1024,
            VENDS
        ),
        vec![
            "",
            "vend p50 ms",
            "vend p99 ms",
            "forged requests/s",
            "forged requests",
            "store growth KB",
        ],
    );
    let at = |xs: &[Duration], p| ms(percentile(xs, p));
    section.row(vec![
        "quiet".into(),
        at(&quiet, 0.5),
        at(&quiet, 0.99),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    section.row(vec![
        "under the flood".into(),
        at(&flooded, 0.5),
        at(&flooded, 0.99),
        format!("{forged_per_second:.0}"),
        format!("{forged_total}"),
        format!("{}", grown / 1024),
    ]);
    section
}
