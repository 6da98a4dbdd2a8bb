//! Online backups of a SQLite store. A plain copy of a live database file
//! misses what is still in its write-ahead log; `VACUUM INTO` writes one
//! consistent snapshot, WAL included, while the broker goes on serving.
//! The copy is checked before it is put in place under its name, so a
//! backup that failed never leaves a file that looks like one.

use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use super::Store;

/// What a finished backup holds.
#[derive(Debug, Clone)]
pub struct Backup {
    pub bytes: u64,
    pub schema_version: i64,
    pub stacks: i64,
    pub integrations: i64,
}

impl Store {
    /// Writes a consistent copy of this SQLite store to `to`, a new file
    /// (never over an existing one), private to this user.
    pub async fn backup_to(&self, to: &Path) -> anyhow::Result<Backup> {
        if !self.sqlite {
            anyhow::bail!(
                "`deputy backup` copies SQLite stores; back a PostgreSQL store up with pg_dump \
                 (`pg_dump --format=custom --file=deputy.dump \"$DEPUTY_STORE\"`, see the README's \
                 \"Backups and restores\")"
            );
        }
        if to.exists() {
            anyhow::bail!(
                "{} exists: a backup never overwrites a file, name a new one",
                to.display()
            );
        }
        let partial = partial_path(to)?;
        remove_abandoned(to, &partial);
        // Made here, empty and private: VACUUM INTO fills an empty file,
        // and would otherwise create it with the process's umask.
        super::super::files::create_private(&partial).map_err(|e| {
            anyhow::anyhow!(
                "cannot create {} ({e}): check the directory",
                partial.display()
            )
        })?;
        let written = self.snapshot_into(&partial).await;
        let checked = match written {
            Ok(()) => check(&partial).await,
            Err(e) => Err(e),
        };
        let backup = match checked {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        // A hard link puts the file under its name only if that name is
        // still free: no overwrite, even of a file made meanwhile.
        let placed = std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::hard_link(&partial, to));
        let _ = std::fs::remove_file(&partial);
        placed.map_err(|e| anyhow::anyhow!("cannot write {} ({e})", to.display()))?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir).and_then(|d| d.sync_all())?;
        }
        Ok(Backup {
            bytes: std::fs::metadata(to)?.len(),
            ..backup
        })
    }

    async fn snapshot_into(&self, file: &Path) -> anyhow::Result<()> {
        let name = file
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("the backup's path is not UTF-8: name another"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot write the backup to {} ({e})", file.display()))?;
        Ok(())
    }
}

/// The temporary name a backup is written under, beside its final one.
fn partial_path(to: &Path) -> anyhow::Result<PathBuf> {
    let name = to
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} is not a file name", to.display()))?;
    Ok(to.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Removes what backups to the same name left when they were killed: a
/// partial file whose process is gone. Another backup running to the same
/// name keeps its own.
fn remove_abandoned(to: &Path, mine: &Path) {
    let _ = std::fs::remove_file(mine);
    let (Some(dir), Some(name)) = (to.parent(), to.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Opens a written copy read-only and proves it whole: SQLite's integrity
/// check, and the schema and registry readable. Opened by file name, not
/// URL, so no character of the name is taken for URL syntax.
async fn check(file: &Path) -> anyhow::Result<Backup> {
    let mut conn: SqliteConnection = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if verdict != "ok" {
        anyhow::bail!("the backup failed SQLite's integrity check: {verdict}");
    }
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let schema_version = count("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await?;
    let stacks = count("SELECT COUNT(*) FROM stacks")
        .fetch_one(&mut conn)
        .await?;
    let integrations = count("SELECT COUNT(*) FROM integrations")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Backup {
        bytes: 0,
        schema_version,
        stacks,
        integrations,
    })
}
