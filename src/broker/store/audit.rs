//! The audit trail: who did what to which object, and how it went.

use super::Page;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use crate::broker::error::{ApiError, ApiResult};
use crate::wire::{AuditEvent, AuditFilter};

const COLUMNS: &str = "id, at, key_id, action, target, outcome, stack_id, phase, run_id, integration_id, session_name, source_identity, expires_at, detail, token_issuer, token_subject, token_id, runner_trust_id, source, event_count, last_at, space_id";

/// The space an event is about, read in the transaction that writes it
/// (so it is the space as the change left it): its stack's (by
/// `stack_id`, or a `stack/` or `attachment/<integration>/` target, whose
/// integration id is 26 characters), its integration's, the space's own
/// (a `space/` target), a key's (a `key/` target: a registry key's space,
/// a runner key's stack's); else the acting key's. Deletions write their
/// event before the row goes. Failed authentications name no space: keys
/// of the root read them.
const SPACE_OF_EVENT: &str = "COALESCE(\
    (SELECT space FROM stacks WHERE id = $7), \
    (SELECT space FROM stacks WHERE substr($5, 1, 6) = 'stack/' AND id = substr($5, 7)), \
    (SELECT space FROM stacks WHERE substr($5, 1, 11) = 'attachment/' AND id = substr($5, 39)), \
    (SELECT space FROM integrations WHERE id = $10), \
    (SELECT space FROM integrations WHERE substr($5, 1, 12) = 'integration/' AND id = substr($5, 13)), \
    (SELECT id FROM spaces WHERE substr($5, 1, 6) = 'space/' AND id = substr($5, 7)), \
    (SELECT COALESCE(k.space_id, (SELECT space FROM stacks WHERE id = k.stack_id)) FROM api_keys k \
     WHERE substr($5, 1, 4) = 'key/' AND k.id = substr($5, 5)), \
    (SELECT COALESCE(k.space_id, (SELECT space FROM stacks WHERE id = k.stack_id)) FROM api_keys k \
     WHERE k.id = $3))";

fn from_row(row: &AnyRow) -> ApiResult<AuditEvent> {
    let phase: Option<String> = row.try_get("phase")?;
    Ok(AuditEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        key_id: row.try_get("key_id")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        stack_id: row.try_get("stack_id")?,
        phase: phase
            .map(|p| p.parse())
            .transpose()
            .map_err(|e: crate::model::Invalid| ApiError::Internal(format!("stored phase: {e}")))?,
        run_id: row.try_get("run_id")?,
        integration_id: row.try_get("integration_id")?,
        session_name: row.try_get("session_name")?,
        source_identity: row.try_get("source_identity")?,
        expires_at: row.try_get("expires_at")?,
        detail: row.try_get("detail")?,
        token_issuer: row.try_get("token_issuer")?,
        token_subject: row.try_get("token_subject")?,
        token_id: row.try_get("token_id")?,
        runner_trust_id: row.try_get("runner_trust_id")?,
        source: row.try_get("source")?,
        count: u64::try_from(row.try_get::<i64, _>("event_count")?).unwrap_or(1),
        last_at: row.try_get("last_at")?,
        space_id: row.try_get("space_id")?,
    })
}

/// Writes one event through the pool or, for a change, inside the change's
/// own transaction, so a change is never committed without its event.
pub(super) async fn insert<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    e: &AuditEvent,
) -> ApiResult<()> {
    sqlx::query(&format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, {SPACE_OF_EVENT})"
        ))
        .bind(&e.id)
        .bind(&e.at)
        .bind(&e.key_id)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.outcome)
        .bind(&e.stack_id)
        .bind(e.phase.map(|p| p.as_str()))
        .bind(&e.run_id)
        .bind(&e.integration_id)
        .bind(&e.session_name)
        .bind(&e.source_identity)
        .bind(&e.expires_at)
        .bind(&e.detail)
        .bind(&e.token_issuer)
        .bind(&e.token_subject)
        .bind(&e.token_id)
        .bind(&e.runner_trust_id)
        .bind(&e.source)
        .bind(i64::try_from(e.count).unwrap_or(i64::MAX))
        .bind(&e.last_at)
        .execute(executor)
        .await?;
    Ok(())
}

impl Store {
    /// An event that records no change (a refusal, a vend).
    pub async fn record_audit(&self, e: &AuditEvent) -> ApiResult<()> {
        insert(&self.pool, e).await
    }

    /// Newest first; `page` continues after an event's (at, id).
    pub async fn audit(&self, f: &AuditFilter, page: &Page) -> ApiResult<Vec<AuditEvent>> {
        // Each filter is `($n IS NULL OR column = $n)`, so one prepared
        // statement serves every combination. An integration's attachment
        // events are found by an exact prefix of their target (not LIKE,
        // where `%` or `_` in the filter would match other integrations).
        // A stack's events are those recorded with its stack_id (runs,
        // vends) and the admin events about it, which carry none: its own
        // (`stack/<id>`) and its attachments' (`attachment/<integration>/<id>`,
        // found by an exact suffix, for the same reason as above; stack ids
        // hold no `/`, so the suffix `/<id>` names the stack alone). When
        // `$4` is longer than the target, the start of the suffix is 0 or
        // less: SQLite then counts from the end and PostgreSQL from the
        // start, but either way the result is shorter than `/` || $4, so
        // nothing matches.
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE \
             ($1 IS NULL OR action = $1) AND ($2 IS NULL OR target = $2) AND \
             ($3 IS NULL OR key_id = $3) AND \
             ($4 IS NULL OR stack_id = $4 OR target = 'stack/' || $4 OR \
              (substr(target, 1, length('attachment/')) = 'attachment/' AND \
               substr(target, length(target) - length($4)) = '/' || $4)) AND \
             ($5 IS NULL OR outcome = $5) AND ($6 IS NULL OR at >= $6) AND \
             ($7 IS NULL OR at < $7 OR (at = $7 AND id < $8)) AND \
             ($10 IS NULL OR integration_id = $10 OR target = 'integration/' || $10 OR \
              substr(target, 1, length('attachment/' || $10 || '/')) = 'attachment/' || $10 || '/') \
             AND {} ORDER BY at DESC, id DESC LIMIT $9",
            Page::space_filter("space_id", 11)
        ))
        .bind(&f.action)
        .bind(&f.target)
        .bind(&f.key_id)
        .bind(&f.stack_id)
        .bind(&f.outcome)
        .bind(&f.since)
        .bind(page.after(0))
        .bind(page.after(1))
        .bind(page.fetch())
        .bind(&f.integration_id)
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
