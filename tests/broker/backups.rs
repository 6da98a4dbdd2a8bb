//! `deputy backup` of a SQLite store while a real `deputy serve` writes to
//! it: the backup holds every write acknowledged before it began, passes
//! SQLite's integrity check, and a broker restored from it (the README's
//! steps: the file put in the store's place) serves it. A backup never
//! overwrites a file; PostgreSQL is pointed to pg_dump.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;

use crate::process::{ServeProcess, admin_token, deputy, said, stack_ids};

fn backup(store: &str, to: &Path) -> std::process::Output {
    let to = to.display().to_string();
    deputy(&["backup", "--store", store, "--to", &to], Path::new("."))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_into_a_broker_with_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("live.db").display());
    let broker = ServeProcess::spawn(&store, dir.path(), &[]).await;
    let token = admin_token(dir.path());
    let http = reqwest::Client::new();

    let running = Arc::new(AtomicBool::new(true));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (http, base, token) = (http.clone(), broker.base.clone(), token.clone());
        let (running, acked) = (running.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let id = format!("w{w}-{n}");
                let answer = http
                    .post(format!("{base}v1/stacks"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"id": id}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 201);
                acked.lock().unwrap().push(id);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before: Vec<String> = acked.lock().unwrap().clone();
    let to = dir.path().join("backups/deputy-backup.db");
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let out = tokio::task::spawn_blocking({
        let (store, to) = (store.clone(), to.clone());
        move || backup(&store, &to)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("integrity checked"), "{}", said(&out));
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let total = acked.lock().unwrap().len();
    assert!(before.len() > 20, "too little load: {}", before.len());
    drop(broker);

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is private");
    let again = backup(&store, &to);
    assert!(!again.status.success(), "a backup overwrote a file");
    assert!(said(&again).contains("exists"), "{}", said(&again));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    // Restore as the README says: the file in the store's place.
    let restored = dir.path().join("restored/deputy.db");
    std::fs::create_dir(dir.path().join("restored")).unwrap();
    std::fs::copy(&to, &restored).unwrap();
    let restored = format!("sqlite://{}", restored.display());
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new().connect(&restored).await.unwrap();
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(verdict, "ok");
    pool.close().await;
    let broker = ServeProcess::spawn(&restored, dir.path(), &["--migrate", "never"]).await;
    let ids = stack_ids(&http, &broker.base, &token).await;
    let missing: Vec<&String> = before.iter().filter(|id| !ids.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not in it: {missing:?}"
    );
    eprintln!(
        "backup under load: {} stacks acknowledged before it began, {} in it, {total} in all",
        before.len(),
        ids.len()
    );
}

#[test]
fn a_postgresql_store_is_pointed_to_pg_dump() {
    let store = crate::support::postgres().fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let out = backup(&store, &dir.path().join("b.db"));
    assert!(!out.status.success());
    assert!(said(&out).contains("pg_dump"), "{}", said(&out));
}
