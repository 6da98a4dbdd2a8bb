//! The system of record, on SQLite (embedded, the default) or PostgreSQL
//! (several broker replicas sharing state), through one `sqlx::AnyPool` and
//! one set of portable SQL, so both stores behave the same by construction.
//!
//! Integrity lives in the schema (`migrations/`): unique names, foreign keys,
//! and the `stack_phases` key that allows one integration per stack and
//! phase. Multi-row changes run in a transaction. Handlers never check a
//! rule the database can check; they translate its refusals into 409s.

pub mod attachments;
mod audit;
mod integrations;
mod keys;
mod pending;
mod runner_trusts;
mod stacks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use integrations::{Reverified, VendTarget};
pub use keys::StoredKey;
pub use pending::Pending;

/// Numbered migrations, embedded in the binary and applied at start.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    sqlite: bool,
}

impl Store {
    /// Opens (creating if needed) the store at `url` — `postgres://...`, or
    /// `sqlite://PATH` or a plain file path — and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let url = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.to_string()
        } else {
            sqlite_url(url)?
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; more connections only add
            // lock contention for writes while reads use WAL snapshots.
            .max_connections(if is_sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        if is_sqlite {
            // Persistent in the file: readers work from snapshots and never
            // block the single writer.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            sqlite: is_sqlite,
        })
    }

    /// A transaction that writes. SQLite must take its write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes fails with "database is locked" when another writer committed
    /// in between, instead of waiting its turn.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool
            .begin_with(if self.sqlite {
                "BEGIN IMMEDIATE"
            } else {
                "BEGIN"
            })
            .await
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// `sqlite://PATH`, creating the file (and its directory) on first start.
/// sqlx's SQLite defaults are the ones deputy relies on: foreign keys
/// enforced, `synchronous=FULL` (an acknowledged write survives a crash),
/// and a busy timeout instead of instant "database is locked" errors.
///
/// What deputy creates is private to its user: the directory 0700, the
/// database 0600 (SQLite gives its `-wal` and `-shm` files the database's
/// mode), so other local users cannot read the registry or the audit
/// trail. Existing files keep the mode their operator chose.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    if !path.is_empty() && !Path::new(path).exists() {
        // An empty file is an empty SQLite database.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
    }
    Ok(format!("sqlite://{path}?mode=rwc"))
}

/// Reads a text column through a `model` type. A stored value that breaks
/// the rule means the database was changed behind the broker's back: an
/// internal error naming the column, not a silently wrong answer.
fn parsed<T: FromStr<Err = crate::model::Invalid>>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> crate::broker::error::ApiResult<T> {
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e: crate::model::Invalid| {
        crate::broker::error::ApiError::Internal(format!("stored {column}: {e}"))
    })
}

/// Reads a 0/1 column as a bool (see the migration for why not BOOLEAN).
fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}
