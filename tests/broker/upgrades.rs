//! Upgrades, on SQLite and PostgreSQL: a store left at each schema version
//! this repository has shipped (its migrations applied up to there, with a
//! stack written at that version) is reported by `deputy migrate --check`,
//! refused by `deputy serve --migrate never`, brought up to date by
//! `deputy migrate`, and then served with its data. A schema newer than
//! the binary is refused by every command, naming both versions.

use std::borrow::Cow;
use std::path::Path;

use sqlx::any::AnyPoolOptions;

use crate::process::{ServeProcess, deputy, said as text};
use crate::support::PRINCIPAL;

/// The newest version under `migrations/`.
fn latest() -> i64 {
    std::fs::read_dir("migrations")
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .unwrap()
}

/// The `space` of the stack written before an upgrade.
const OLD_SPACE: &str = r#"team "net" \ ops"#;

/// Applies the repository's migrations up to `version` to the store at
/// `url`, as a deputy of that version left it, and writes a stack there.
async fn store_at(url: &str, version: i64) {
    sqlx::any::install_default_drivers();
    let mut migrator = sqlx::migrate::Migrator::new(Path::new("migrations"))
        .await
        .unwrap();
    migrator.migrations = Cow::Owned(
        migrator
            .iter()
            .filter(|m| m.version <= version)
            .cloned()
            .collect(),
    );
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    let placeholder = if url.starts_with("postgres") {
        "$1"
    } else {
        "?"
    };
    // A free-text space of before spaces were a tree (migration 0015),
    // with the characters JSON must escape.
    sqlx::query(&format!(
        "INSERT INTO stacks (id, name, space, labels, description, created_at, updated_at) \
         VALUES ({placeholder}, 'written before the upgrade', '{OLD_SPACE}', '{{\"env\":\"prod\"}}', '', \
         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    ))
    .bind(format!("v{version}"))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// A broker started on `store` with `--migrate MIGRATE`, which must
/// refuse: what it said.
fn serve_refuses(store: &str, dir: &Path, migrate: &str) -> String {
    let out = deputy(
        &[
            "serve",
            "--account",
            "acme",
            "--principal-arn",
            PRINCIPAL,
            "--listen",
            "127.0.0.1:0",
            "--store",
            store,
            "--migrate",
            migrate,
        ],
        dir,
    );
    assert!(!out.status.success(), "serve started: {}", text(&out));
    text(&out)
}

async fn every_earlier_version_upgrades(fresh: impl Fn(i64) -> String) {
    let latest = latest();
    assert!(latest >= 13, "migrations/ not found");
    for version in 1..latest {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh(version);
        store_at(&store, version).await;

        let check = deputy(&["migrate", "--check", "--store", &store], dir.path());
        assert_eq!(check.status.code(), Some(2), "{}", text(&check));
        assert!(
            text(&check).contains(&format!("at version {version} of {latest}")),
            "{}",
            text(&check)
        );
        let refused = serve_refuses(&store, dir.path(), "never");
        assert!(
            refused.contains("deputy migrate") && refused.contains(&format!("version {version}")),
            "{refused}"
        );

        let migrated = deputy(&["migrate", "--store", &store], dir.path());
        assert!(migrated.status.success(), "{}", text(&migrated));
        assert!(
            text(&migrated).contains(&format!("up to date (version {latest})")),
            "{}",
            text(&migrated)
        );
        let check = deputy(&["migrate", "--check", "--store", &store], dir.path());
        assert_eq!(check.status.code(), Some(0), "{}", text(&check));

        let broker = ServeProcess::spawn(&store, dir.path(), &["--migrate", "never"]).await;
        let token = crate::process::admin_token(dir.path());
        let stack = reqwest::Client::new()
            .get(format!("{}v1/stacks/v{version}", broker.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            stack.status(),
            200,
            "the stack written at version {version}"
        );
        // Spaces became a tree: the stack is in root, and what its space
        // said is kept as a label.
        let stack: serde_json::Value = stack.json().await.unwrap();
        assert_eq!(stack["space"], "root", "{stack}");
        assert_eq!(stack["labels"]["space"], OLD_SPACE, "{stack}");
        assert_eq!(stack["labels"]["env"], "prod", "{stack}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_sqlite_schema_upgrades_and_keeps_its_data() {
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().to_owned();
    every_earlier_version_upgrades(move |v| {
        let file = root.join(format!("v{v}.db"));
        std::fs::File::create(&file).unwrap();
        format!("sqlite://{}", file.display())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_postgres_schema_upgrades_and_keeps_its_data() {
    every_earlier_version_upgrades(|_| crate::support::postgres().fresh_database()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deputy.db");
    let store = format!("sqlite://{}", file.display());
    let migrated = deputy(
        &["migrate", "--store", &file.display().to_string()],
        dir.path(),
    );
    assert!(!migrated.status.success(), "a missing store is not created");
    std::fs::File::create(&file).unwrap();
    let migrated = deputy(&["migrate", "--store", &store], dir.path());
    assert!(migrated.status.success(), "{}", text(&migrated));
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new().connect(&store).await.unwrap();
    let newer = latest() + 1;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer deputy', 1, x'00', 0)",
    )
    .bind(newer)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let both = format!("version {newer}");
    let known = format!("up to {}", latest());
    for migrate in ["never", "auto"] {
        let refused = serve_refuses(&store, dir.path(), migrate);
        assert!(
            refused.contains(&both) && refused.contains(&known),
            "{refused}"
        );
    }
    for args in [&["migrate"][..], &["migrate", "--check"][..]] {
        let out = deputy(&[args, &["--store", &store]].concat(), dir.path());
        assert!(!out.status.success());
        assert!(text(&out).contains(&both), "{}", text(&out));
    }
}
