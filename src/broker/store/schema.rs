//! The store's schema version against the migrations this binary carries:
//! what `deputy migrate --check` reports, what `deputy migrate` and a
//! starting broker apply, and the refusal to touch a schema a newer deputy
//! wrote (an older binary would misread tables it does not know).

use sqlx::Row;

use super::{MIGRATOR, Store};

/// Where a store's schema stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The newest migration applied to the store (0: an empty store).
    pub current: i64,
    /// The newest migration this binary carries.
    pub latest: i64,
    /// Migrations this binary would apply, oldest first: (version, what).
    pub pending: Vec<(i64, String)>,
    /// Applied versions this binary does not carry: a newer deputy's.
    pub unknown: Vec<i64>,
}

impl Schema {
    /// The refusal for a schema this binary must not use, if it is one.
    pub fn refusal(&self) -> Option<String> {
        let newest = *self.unknown.iter().max()?;
        Some(format!(
            "the store's schema is at version {newest}, written by a newer deputy; this deputy ({}) \
             knows versions up to {}. Run a deputy as new as the one that upgraded the store, or \
             restore the backup taken before that upgrade",
            crate::VERSION,
            self.latest
        ))
    }

    /// One line for people: the version and what is left to do.
    pub fn summary(&self) -> String {
        if let Some(refusal) = self.refusal() {
            return refusal;
        }
        if self.pending.is_empty() {
            return format!(
                "the store's schema is up to date (version {})",
                self.current
            );
        }
        let list = self
            .pending
            .iter()
            .map(|(v, what)| format!("{v} {what}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "the store's schema is at version {} of {}: {} migration(s) to apply ({list})",
            self.current,
            self.latest,
            self.pending.len()
        )
    }
}

impl Store {
    /// The schema's state, read without changing anything.
    pub async fn schema(&self) -> Result<Schema, sqlx::Error> {
        let applied = self.applied_versions().await?;
        let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        Ok(Schema {
            current: applied.iter().copied().max().unwrap_or(0),
            latest: known.iter().copied().max().unwrap_or(0),
            pending: MIGRATOR
                .iter()
                .filter(|m| !applied.contains(&m.version))
                .map(|m| (m.version, m.description.to_string()))
                .collect(),
            unknown: applied.into_iter().filter(|v| !known.contains(v)).collect(),
        })
    }

    /// Applies the pending migrations, each logged with its version,
    /// unless the schema is a newer deputy's. Returns what was applied.
    pub async fn migrate(&self) -> anyhow::Result<Vec<(i64, String)>> {
        let before = self.schema().await?;
        if let Some(refusal) = before.refusal() {
            anyhow::bail!(refusal);
        }
        if before.pending.is_empty() {
            return Ok(Vec::new());
        }
        tracing::info!(
            from = before.current,
            to = before.latest,
            "migrating the store's schema"
        );
        MIGRATOR.run(&self.pool).await.map_err(|e| {
            anyhow::anyhow!(
                "migrating the store's schema from version {} failed: {e}. Each migration runs in \
                 a transaction, so the store stays at the last version that completed; restore \
                 the backup if in doubt",
                before.current
            )
        })?;
        // Another replica may have applied some of them meanwhile: report
        // what is applied now of what was pending.
        let after = self.applied_versions().await?;
        let applied: Vec<(i64, String)> = before
            .pending
            .into_iter()
            .filter(|(v, _)| after.contains(v))
            .collect();
        for (version, what) in &applied {
            tracing::info!(version, migration = %what, "applied migration");
        }
        // Migration 0015 creates the root space without a time (the two
        // databases format none alike): it gets the migration's.
        let at = crate::model::timestamp::now();
        sqlx::query(
            "UPDATE spaces SET created_at = $1, updated_at = $1 WHERE id = 'root' AND created_at = ''",
        )
        .bind(&at)
        .execute(&self.pool)
        .await?;
        Ok(applied)
    }

    /// The versions recorded as applied; none on an empty store.
    async fn applied_versions(&self) -> Result<Vec<i64>, sqlx::Error> {
        let exists = if self.sqlite {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        } else {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        };
        let found: i64 = sqlx::query_scalar(exists).fetch_one(&self.pool).await?;
        if found == 0 {
            return Ok(Vec::new());
        }
        // A failed migration stays recorded with success false: it is not
        // applied, and sqlx refuses to go on until it is dealt with.
        let rows =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| r.try_get::<i64, _>(0)).collect()
    }
}
