//! Changes waiting on a verification (`pending_changes`). Nothing of such a
//! change is written before it is verified; the row only says that it was
//! asked for, by whom, and that its owner is still working on it (the
//! lease, on the database's clock, so replicas whose clocks differ agree on
//! when it runs out). A row whose lease ran out was left by a broker that
//! died: it is audited as interrupted and removed, so every change asked
//! for ends in an audit event, whatever happened to the process.

use sqlx::Row;

use super::{Store, audit};
use crate::broker::error::ApiResult;
use crate::model::timestamp;
use crate::wire::AuditEvent;

/// A change in progress.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: String,
    pub action: String,
    pub target: String,
    pub key_id: Option<String>,
    pub started_at: String,
}

impl Store {
    /// The end of a lease starting now, on the database's clock.
    async fn lease_until(&self, lease: std::time::Duration) -> ApiResult<String> {
        Ok(timestamp::format(self.clock().await? + lease))
    }

    pub async fn begin_pending(&self, p: &Pending, lease: std::time::Duration) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO pending_changes (id, action, target, key_id, started_at, lease_until) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(&p.action)
        .bind(&p.target)
        .bind(&p.key_id)
        .bind(&p.started_at)
        .bind(self.lease_until(lease).await?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn renew_pending(&self, id: &str, lease: std::time::Duration) -> ApiResult<()> {
        sqlx::query("UPDATE pending_changes SET lease_until = $1 WHERE id = $2")
            .bind(self.lease_until(lease).await?)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The change ended (committed or refused): its final audit event was
    /// written by whoever ended it; the row goes.
    pub async fn end_pending(&self, id: &str) -> ApiResult<()> {
        sqlx::query("DELETE FROM pending_changes WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Audits and removes changes whose owner stopped renewing their lease
    /// (a broker killed mid-verification). Each row is claimed by deleting
    /// it, in the same transaction as its audit event, so two replicas
    /// reaping at once audit it once.
    pub async fn reap_pending(&self) -> ApiResult<Vec<Pending>> {
        let rows = sqlx::query(
            "SELECT id, action, target, key_id, started_at FROM pending_changes WHERE lease_until < $1",
        )
        .bind(timestamp::format(self.clock().await?))
        .fetch_all(&self.pool)
        .await?;
        let mut reaped = Vec::new();
        for row in rows {
            let p = Pending {
                id: row.try_get("id")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                key_id: row.try_get("key_id")?,
                started_at: row.try_get("started_at")?,
            };
            let mut tx = self.write_tx().await?;
            let claimed = sqlx::query("DELETE FROM pending_changes WHERE id = $1")
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            audit::insert(
                &mut *tx,
                &AuditEvent {
                    outcome: crate::model::audit::INTERRUPTED.into(),
                    detail: format!(
                        "the broker stopped while verifying this change (started {}); nothing of it \
                         was applied: ask again",
                        p.started_at
                    ),
                    ..AuditEvent::new(p.key_id.as_deref(), &p.action, &p.target)
                },
            )
            .await?;
            self.commit(tx).await?;
            reaped.push(p);
        }
        Ok(reaped)
    }
}
