//! A store that cannot write. SQLite on a disk that fills up: a real
//! `deputy serve` with its database on a 1 MiB tmpfs. Writes are refused while the disk is full
//! (503 `store_unavailable`, never a 500) and `/readyz` says so; once the
//! filesystem has room again, writes succeed without a restart and
//! `/readyz` is ready again by itself. A store on a read-only filesystem
//! is refused at start naming the path and the fix. Mounting needs root:
//! elsewhere those tests say they are skipped. PostgreSQL made read-only
//! (as a hot standby is) is told the same way and heals by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{ServeProcess, admin_token, deputy, said, stack_ids};

/// A tmpfs mounted for the test, unmounted however it ends.
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> Result<SmallDisk, String> {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(SmallDisk { at: at.to_owned() })
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.at)
            .status()
            .unwrap();
        assert!(status.success(), "remount the tmpfs");
    }
}

/// A small tmpfs under `dir`, or `None` after saying the test is skipped
/// (mounting needs root).
fn small_disk_or_skip(dir: &Path) -> Option<SmallDisk> {
    match SmallDisk::mount(&dir.join("disk"), "1m") {
        Ok(disk) => Some(disk),
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs here (needs root): {why}");
            None
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

async fn create(http: &reqwest::Client, base: &str, token: &str, id: &str) -> (u16, String) {
    let answer = http
        .post(format!("{base}v1/stacks"))
        .bearer_auth(token)
        .json(&serde_json::json!({"id": id, "description": "x".repeat(900)}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn ready(http: &reqwest::Client, base: &str) -> (u16, String) {
    let answer = http.get(format!("{base}readyz")).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_said_by_readyz_and_heals_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = small_disk_or_skip(dir.path()) else {
        return;
    };
    let store = format!("sqlite://{}/deputy.db", disk.at.display());
    let broker = ServeProcess::spawn(&store, dir.path(), &[]).await;
    let token = admin_token(dir.path());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = broker.base.clone();

    // Fill the disk: every answer is a created stack until the first
    // refusal, which must say the store cannot serve, never a 500.
    let mut created = Vec::new();
    let refused = loop {
        let id = format!("s{}", created.len());
        let (status, code) = create(&http, &base, &token, &id).await;
        if status != 201 {
            break (status, code);
        }
        created.push(id);
        assert!(created.len() < 5000, "1 MiB never filled");
    };
    assert_eq!(refused, (503, "store_unavailable".to_string()));
    assert!(!created.is_empty(), "the disk was full from the start");
    let (status, body) = ready(&http, &base).await;
    assert_eq!(status, 503, "/readyz with the disk full: {body}");
    assert!(body.contains("cannot write"), "{body}");

    // Room again: writes work on the same broker, with no restart, and
    // /readyz follows by itself.
    disk.resize("16m");
    let freed_at = Instant::now();
    let mut after = Vec::new();
    for n in 0..20 {
        let id = format!("after{n}");
        let answer = create(&http, &base, &token, &id).await;
        after.push(answer.0);
        if answer.0 != 201 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        after.iter().all(|s| *s == 201),
        "writes after the disk was freed: {after:?}"
    );
    loop {
        let (status, body) = ready(&http, &base).await;
        if status == 200 {
            break;
        }
        assert!(
            freed_at.elapsed() < Duration::from_secs(15),
            "/readyz still {status} {body} 15 s after the disk was freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "full disk: {} stacks fit in 1 MiB; /readyz ready {:?} after the disk was freed",
        created.len(),
        freed_at.elapsed()
    );

    // Nothing acknowledged was lost.
    let ids = stack_ids(&http, &base, &token).await;
    for id in &created {
        assert!(ids.contains(id), "stack {id} was acknowledged and is gone");
    }
    drop(broker);
}

#[test]
fn a_store_on_a_read_only_filesystem_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = small_disk_or_skip(dir.path()) else {
        return;
    };
    let existing = disk.at.join("deputy.db");
    let migrated = deputy(
        &[
            "migrate",
            "--store",
            &format!("sqlite://{}", existing.display()),
        ],
        dir.path(),
    );
    assert!(!migrated.status.success(), "no store there yet");
    std::fs::File::create(&existing).unwrap();
    let status = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&disk.at)
        .status()
        .unwrap();
    assert!(status.success());
    for store in [existing, disk.at.join("new.db")] {
        let store = store.display().to_string();
        let out = deputy(
            &[
                "serve",
                "--account",
                "acme",
                "--listen",
                "127.0.0.1:0",
                "--principal-arn",
                crate::support::PRINCIPAL,
                "--store",
                &store,
            ],
            dir.path(),
        );
        let said = said(&out);
        assert!(!out.status.success());
        assert!(
            said.contains(&format!("cannot write {store}"))
                && said.contains("Read-only file system")
                && said.contains("writable"),
            "{said}"
        );
    }
}

/// PostgreSQL refusing writes (a database made read-only, as a hot
/// standby is): every write is a 503 and `/readyz` says the store cannot
/// write, whichever statement was refused; once the database takes writes
/// again, the broker's probe notices by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_postgresql_is_said_by_readyz_and_heals_by_itself() {
    let db = crate::support::postgres().fresh_database();
    let name = db.rsplit('/').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let broker = ServeProcess::spawn(&db, dir.path(), &[]).await;
    let token = admin_token(dir.path());
    let http = reqwest::Client::new();
    let base = broker.base.clone();
    sqlx::any::install_default_drivers();
    let admin_db = db.replace(&format!("/{name}"), "/postgres");
    let operator = sqlx::AnyPool::connect(&admin_db).await.unwrap();
    // New sessions of the database are read-only; the broker's open ones
    // are ended, so its pool reconnects into the new default.
    let read_only = |on: bool| {
        let (operator, name) = (operator.clone(), name.clone());
        async move {
            sqlx::query(&format!(
                "ALTER DATABASE {name} SET default_transaction_read_only = {}",
                if on { "on" } else { "off" }
            ))
            .execute(&operator)
            .await
            .unwrap();
            sqlx::query(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(&operator)
            .await
            .unwrap();
        }
    };
    assert_eq!(create(&http, &base, &token, "before").await.0, 201);
    read_only(true).await;
    let mut answers = Vec::new();
    for n in 0..5 {
        answers.push(create(&http, &base, &token, &format!("during{n}")).await);
    }
    assert!(
        answers
            .iter()
            .skip(1)
            .all(|a| *a == (503, "store_unavailable".to_string())),
        "{answers:?}"
    );
    let (status, body) = ready(&http, &base).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("cannot write"), "{body}");

    read_only(false).await;
    let back = Instant::now();
    loop {
        if ready(&http, &base).await.0 == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "/readyz still not ready 15 s after the database took writes again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(create(&http, &base, &token, "after").await.0, 201);
}
