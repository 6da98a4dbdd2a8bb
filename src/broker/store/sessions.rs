//! Console sessions: the SHA-256 of each session secret, the key it was
//! opened with, and when it ends. Opening and closing one is audited in the
//! same transaction.

use super::{Store, audit};
use crate::broker::error::ApiResult;
use crate::wire::AuditEvent;

impl Store {
    /// Stores a new session and its `console.sign_in` event; sessions past
    /// their end are swept in the same transaction, so the table holds only
    /// live ones without a background task.
    pub async fn open_session(
        &self,
        id_hash: &str,
        key_id: &str,
        created_at: &str,
        expires_at: &str,
        audit: &AuditEvent,
    ) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(key_id)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// The key id of a session still open at `now`.
    pub async fn session_key(&self, id_hash: &str, now: &str) -> ApiResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT key_id FROM console_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a session and records `console.sign_out`.
    pub async fn close_session(&self, id_hash: &str, audit: &AuditEvent) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }
}
