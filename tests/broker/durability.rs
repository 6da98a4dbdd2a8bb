//! Durability: `kill -9` the real `deputy serve` in the middle of a burst of
//! writes, restart it on the same store, and find every acknowledged write.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deputy::client::Client;
use deputy::wire::StackInput;

use crate::process::{ServeProcess, admin_token};
use crate::support::Backend;
use testkit::on_both;

on_both!(acknowledged_writes_survive_kill_9, |backend| async move {
    let dir = tempfile::tempdir().unwrap();
    let store = match backend {
        Backend::Sqlite => format!("sqlite://{}/deputy.db", dir.path().display()),
        Backend::Postgres => crate::support::postgres().fresh_database(),
    };
    let mut broker = ServeProcess::spawn(&store, dir.path(), &[]).await;
    let token = admin_token(dir.path());
    let client = Client::new(
        broker.base.parse().unwrap(),
        token.clone(),
        Duration::from_secs(5),
        &Default::default(),
    )
    .unwrap();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let client = client.clone();
            let acked = acked.clone();
            tokio::spawn(async move {
                for n in 0..10_000 {
                    let id = format!("w{w}-{n}");
                    let input = StackInput {
                        id: id.clone(),
                        ..Default::default()
                    };
                    match client.create_stack(&input).await {
                        Ok(_) => acked.lock().unwrap().push(id),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Let a burst get going, then kill without warning.
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    broker.child.start_kill().unwrap();
    broker.child.wait().await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let restarted = ServeProcess::spawn(&store, dir.path(), &[]).await;
    let client = Client::new(
        restarted.base.parse().unwrap(),
        token,
        Duration::from_secs(5),
        &Default::default(),
    )
    .unwrap();
    let present: std::collections::HashSet<String> = client
        .stacks()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !present.contains(*id)).collect();
    println!(
        "kill -9 on {backend:?}: {} writes acknowledged, {} present after restart, {} lost",
        acked.len(),
        present.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
});

/// What the broker creates is private to its user, and a first start on
/// PostgreSQL must be told where the bootstrap key goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_files_are_private_and_postgres_needs_a_key_file() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = crate::support::config(
        &format!("sqlite://{}/deputy.db", data.display()),
        dir.path(),
    );
    config.bootstrap_key_file = None;
    deputy::broker::server::prepare(&config).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("deputy.db")), 0o600, "database");
    assert_eq!(
        mode(&data.join("admin.key")),
        0o600,
        "bootstrap key beside it"
    );

    let mut config =
        crate::support::config(&crate::support::postgres().fresh_database(), dir.path());
    config.bootstrap_key_file = None;
    let Err(e) = deputy::broker::server::prepare(&config).await else {
        panic!("a first start on PostgreSQL without --bootstrap-key-file must be refused")
    };
    assert!(e.to_string().contains("--bootstrap-key-file"), "{e}");
    assert!(
        !std::path::Path::new("admin.key").exists(),
        "nothing in the working directory"
    );
}

/// SIGTERM (`docker stop`, Kubernetes): `/readyz` turns 503 while the
/// broker still serves for `--shutdown-delay`, then it stops cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_readiness_then_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/deputy.db", dir.path().display());
    let mut broker = ServeProcess::spawn(&store, dir.path(), &["--shutdown-delay", "2"]).await;
    let signalled = std::time::Instant::now();
    broker.signal(nix::sys::signal::Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ready = reqwest::get(format!("{}readyz", broker.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "draining\n");
    let alive = reqwest::get(format!("{}healthz", broker.base))
        .await
        .unwrap();
    assert_eq!(alive.status(), 200, "still serving while draining");
    let status = tokio::time::timeout(Duration::from_secs(20), broker.child.wait())
        .await
        .expect("the broker stops after its delay")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the delay is kept"
    );
}

/// Two replicas starting together on an empty PostgreSQL mint one
/// bootstrap key between them, and only the winner's file remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_mint_one_bootstrap_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::postgres().fresh_database();
    let replica = |name: &str| {
        let mut c = crate::support::config(&url, dir.path());
        c.bootstrap_key_file = Some(dir.path().join(name));
        c.bootstrap_key_expires_in = Some(3600);
        c
    };
    let (a, b) = (replica("a.key"), replica("b.key"));
    let (ra, rb) = tokio::join!(
        deputy::broker::server::prepare(&a),
        deputy::broker::server::prepare(&b)
    );
    let state = ra.unwrap();
    rb.unwrap();
    let files: Vec<bool> = ["a.key", "b.key"]
        .iter()
        .map(|f| dir.path().join(f).exists())
        .collect();
    assert_eq!(files.iter().filter(|e| **e).count(), 1, "{files:?}");
    let keys = state
        .store
        .keys(&deputy::broker::store::Page::all())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].expires_at.is_some(), "--bootstrap-key-expires-in");
    let written = if files[0] { "a.key" } else { "b.key" };
    let token = std::fs::read_to_string(dir.path().join(written)).unwrap();
    assert!(
        token.starts_with(&format!("dpk_{}_", keys[0].id)),
        "the file holds the stored key"
    );
    // The guard itself: a second bootstrap of this store writes nothing,
    // whichever way the race above went.
    let late = deputy::broker::auth::mint(
        deputy::broker::auth::new_key_id(),
        deputy::wire::KeyRole::Admin,
        Some(deputy::model::SpaceId::root()),
        None,
        Vec::new(),
        "bootstrap admin key".into(),
        None,
    );
    let event = deputy::wire::AuditEvent::new(None, "key.create", "key/late");
    assert!(
        !state
            .store
            .insert_bootstrap_key(&late.stored, &event)
            .await
            .unwrap()
    );
    assert_eq!(
        state
            .store
            .keys(&deputy::broker::store::Page::all())
            .await
            .unwrap()
            .len(),
        1
    );
}
