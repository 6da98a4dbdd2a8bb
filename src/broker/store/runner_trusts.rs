//! Runner trusts: which OIDC ID tokens act for which stack and phases.

use super::Page;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Once, Store, audit, flag, idempotency, parsed};
use crate::broker::error::{ApiError, ApiResult};
use crate::model::Phase;
use crate::wire::{AuditEvent, RunnerTrust};

const COLUMNS: &str = "id, stack_id, issuer, audience, subject, claims, phases, description, \
                       created_at, updated_at, single_use_tokens";

fn from_row(row: &AnyRow) -> ApiResult<RunnerTrust> {
    let claims: String = row.try_get("claims")?;
    let phases: String = row.try_get("phases")?;
    Ok(RunnerTrust {
        id: row.try_get("id")?,
        stack_id: parsed(row, "stack_id")?,
        issuer: row.try_get("issuer")?,
        audience: row.try_get("audience")?,
        subject: row.try_get("subject")?,
        claims: serde_json::from_str(&claims)
            .map_err(|e| ApiError::Internal(format!("stored claims: {e}")))?,
        phases: phases
            .split(',')
            .map(str::parse::<Phase>)
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::Internal(format!("stored phases: {e}")))?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        single_use_tokens: flag(row, "single_use_tokens")?,
    })
}

fn phases_text(phases: &[Phase]) -> String {
    let names: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
    names.join(",")
}

impl Store {
    /// Stores a new trust with its audit event, in one transaction.
    pub async fn insert_runner_trust(
        &self,
        t: &RunnerTrust,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(&format!(
            "INSERT INTO runner_trusts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&t.id)
        .bind(t.stack_id.as_str())
        .bind(&t.issuer)
        .bind(&t.audience)
        .bind(&t.subject)
        .bind(serde_json::to_string(&t.claims).expect("string map serializes"))
        .bind(phases_text(&t.phases))
        .bind(&t.description)
        .bind(&t.created_at)
        .bind(&t.updated_at)
        .bind(i64::from(t.single_use_tokens))
        .execute(&mut *tx)
        .await?;
        idempotency::remember_if(&mut tx, once).await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Replaces every field but the id and creation time.
    pub async fn replace_runner_trust(
        &self,
        t: &RunnerTrust,
        audit: &AuditEvent,
    ) -> ApiResult<RunnerTrust> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE runner_trusts SET stack_id = $1, issuer = $2, audience = $3, subject = $4, \
             claims = $5, phases = $6, description = $7, updated_at = $8, \
             single_use_tokens = $9 WHERE id = $10",
        )
        .bind(t.stack_id.as_str())
        .bind(&t.issuer)
        .bind(&t.audience)
        .bind(&t.subject)
        .bind(serde_json::to_string(&t.claims).expect("string map serializes"))
        .bind(phases_text(&t.phases))
        .bind(&t.description)
        .bind(&t.updated_at)
        .bind(i64::from(t.single_use_tokens))
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("runner trust", &t.id));
        }
        audit::insert(&mut *tx, audit).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runner_trusts WHERE id = $1"
        ))
        .bind(&t.id)
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx).await?;
        from_row(&row)
    }

    pub async fn delete_runner_trust(&self, id: &str, audit: &AuditEvent) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM runner_trusts WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("runner trust", id));
        }
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn runner_trust(&self, id: &str) -> ApiResult<RunnerTrust> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runner_trusts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(from_row)
            .transpose()?
            .ok_or_else(|| ApiError::not_found("runner trust", id))
    }

    /// Oldest first.
    pub async fn runner_trusts(&self, page: &Page) -> ApiResult<Vec<RunnerTrust>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runner_trusts WHERE ($1 IS NULL OR created_at > $1 OR \
             (created_at = $1 AND id > $2)) AND {} ORDER BY created_at, id LIMIT $3",
            Page::space_filter(
                "(SELECT space FROM stacks WHERE stacks.id = runner_trusts.stack_id)",
                4
            )
        ))
        .bind(page.after(0))
        .bind(page.after(1))
        .bind(page.fetch())
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The trusts a token claiming `issuer` may match.
    pub async fn runner_trusts_of_issuer(&self, issuer: &str) -> ApiResult<Vec<RunnerTrust>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runner_trusts WHERE issuer = $1 ORDER BY created_at, id"
        ))
        .bind(issuer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Marks the token `token_id` of `issuer` used, to be kept until
    /// `kept_until`; false when it was used before (on any replica).
    /// Tokens whose time has passed are forgotten on the way.
    pub async fn use_token_once(
        &self,
        issuer: &str,
        token_id: &str,
        kept_until: &str,
        now: &str,
    ) -> ApiResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM used_tokens WHERE kept_until < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let first = sqlx::query(
            "INSERT INTO used_tokens (issuer, token_id, kept_until) VALUES ($1, $2, $3) \
             ON CONFLICT (issuer, token_id) DO NOTHING",
        )
        .bind(issuer)
        .bind(token_id)
        .bind(kept_until)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        self.commit(tx).await?;
        Ok(first)
    }
}
