//! Logs that stay readable under a flood: a runner key far over its
//! credential budget is logged once a minute, not once a request, while
//! every refusal is still counted in `/metrics`.

use std::time::Duration;

use crate::metrics::sample;
use crate::process::{ServeProcess, admin_token, metrics_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_budget_is_logged_once_a_minute_and_counted_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/deputy.db", dir.path().display());
    let broker = ServeProcess::spawn(&store, dir.path(), &["--credentials-rate-limit", "1"]).await;
    let admin = admin_token(dir.path());
    let http = reqwest::Client::new();
    let base = broker.base.clone();
    let created = http
        .post(format!("{base}v1/stacks"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"id": "net"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let key: serde_json::Value = http
        .post(format!("{base}v1/keys"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"role": "runner", "stack_id": "net", "phases": ["read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let runner = key["token"].as_str().expect("a runner key").to_string();
    let mut statuses = Vec::new();
    for n in 0..30 {
        let answer = http
            .post(format!("{base}v1/credentials"))
            .bearer_auth(&runner)
            .json(&serde_json::json!({"phase": "read", "run_id": format!("r{n}")}))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(refused, 29, "{statuses:?}");
    let metrics = metrics_of(&http, &base).await;
    assert_eq!(
        sample(&metrics, "deputy_rate_limited_total"),
        Some(29.0),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    let lines = log.matches("over the rate limit").count();
    assert_eq!(lines, 1, "{log}");
}
