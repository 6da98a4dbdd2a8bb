//! Attachments: which stacks may use an integration, for which phases, and
//! the handover of a phase from one integration to another (make-before-
//! break: the new attachment waits, verified, until the old one goes).

use std::collections::BTreeMap;

use super::Page;
use crate::wire::{AttachmentUpdate, AuditEvent, ProblemCode, VerifyReport};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Once, Store, audit, flag, former_trust, idempotency, parsed};
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::timestamp::{self, now};
use crate::model::verification::Targets;
use crate::model::{IntegrationId, Phase, StackId};

/// An attachment as stored; the API adds the External IDs.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRecord {
    pub integration_id: IntegrationId,
    pub stack_id: StackId,
    pub read: bool,
    pub write: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Phases this attachment waits to serve, with the integration that
    /// serves them until its attachment (or that phase of it) goes.
    pub waiting_for: BTreeMap<Phase, IntegrationId>,
}

impl AttachmentRecord {
    pub fn phases(&self) -> Vec<Phase> {
        Phase::from_flags(self.read, self.write)
    }
}

const COLUMNS: &str = "integration_id, stack_id, read, write, created_at, updated_at";

fn from_row(row: &AnyRow) -> ApiResult<AttachmentRecord> {
    Ok(AttachmentRecord {
        integration_id: parsed(row, "integration_id")?,
        stack_id: parsed(row, "stack_id")?,
        read: flag(row, "read")?,
        write: flag(row, "write")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        waiting_for: BTreeMap::new(),
    })
}

/// Fills `waiting_for` of `records` from the waiting phases of the stacks
/// or integrations they belong to: one query for a whole page.
async fn with_handovers<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    mut records: Vec<AttachmentRecord>,
    integration_id: Option<&str>,
    stack_id: Option<&str>,
) -> ApiResult<Vec<AttachmentRecord>> {
    if records.is_empty() {
        return Ok(records);
    }
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT w.integration_id, w.stack_id, w.phase, a.integration_id \
         FROM stack_phases w JOIN stack_phases a \
         ON a.stack_id = w.stack_id AND a.phase = w.phase AND a.waiting = 0 \
         WHERE w.waiting = 1 AND ($1 IS NULL OR w.integration_id = $1) \
         AND ($2 IS NULL OR w.stack_id = $2)",
    )
    .bind(integration_id)
    .bind(stack_id)
    .fetch_all(executor)
    .await?;
    for (waiter, stack, phase, holder) in rows {
        if let Some(r) = records
            .iter_mut()
            .find(|r| r.integration_id.as_str() == waiter && r.stack_id.as_str() == stack)
        {
            let phase: Phase = phase.parse().map_err(|e: crate::model::Invalid| {
                ApiError::Internal(format!("stack_phases.phase: {}", e.0))
            })?;
            let holder = holder.parse().map_err(|e: crate::model::Invalid| {
                ApiError::Internal(format!("stack_phases.integration_id: {}", e.0))
            })?;
            r.waiting_for.insert(phase, holder);
        }
    }
    Ok(records)
}

fn both_false() -> ApiError {
    ApiError::invalid(
        "read",
        "read and write are both false: an attachment serves at least one phase; set read (plans), \
         write (applies) or both",
    )
}

impl Store {
    /// Refuses, before any verification starts, what the commit would
    /// refuse anyway: a missing integration or stack, a stack already
    /// attached, a phase another integration holds. Returns the existing
    /// attachment when the very same one exists, so a retried attach (after
    /// a cancelled apply, say) adopts it instead of failing.
    pub async fn check_attachable(
        &self,
        integration_id: &str,
        stack_id: &str,
        read: bool,
        write: bool,
    ) -> ApiResult<Option<AttachmentRecord>> {
        if !read && !write {
            return Err(both_false());
        }
        let mut tx = self.pool.begin().await?;
        self.require_both(&mut tx, integration_id, stack_id).await?;
        match fetch(&mut *tx, integration_id, stack_id).await {
            Ok(existing) if existing.read == read && existing.write == write => {
                return Ok(Some(existing));
            }
            Ok(_) => {
                return Err(ApiError::conflict(
                    ProblemCode::AlreadyAttached,
                    format!(
                        "integration {integration_id:?} is already attached to stack {stack_id:?} \
                         with other phases; update that attachment instead"
                    ),
                ));
            }
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let wanted: Vec<&str> = Phase::from_flags(read, write)
            .iter()
            .map(|p| p.as_str())
            .collect();
        // A phase another integration serves is fine (this attachment will
        // wait for it); one a third integration already waits for is not.
        let queued: Vec<(String, String)> = sqlx::query_as(
            "SELECT phase, integration_id FROM stack_phases WHERE stack_id = $1 AND waiting = 1 \
             ORDER BY phase",
        )
        .bind(stack_id)
        .fetch_all(&mut *tx)
        .await?;
        if queued
            .iter()
            .any(|(phase, _)| wanted.contains(&phase.as_str()))
        {
            drop(tx);
            return Err(self.explain_phase_conflict(stack_id).await);
        }
        Ok(None)
    }

    /// Attaches in one transaction: the attachment row, one `stack_phases`
    /// row per phase (whose key refuses a second integration for the same
    /// stack and phase even under concurrent requests), and the audit
    /// event, with the verification that confirmed the phases (`None` when
    /// the broker skips verification: then they hold their slot but never
    /// vend). `once` is the create's idempotency record, if it has one.
    pub async fn attach(
        &self,
        integration_id: &IntegrationId,
        stack_id: &StackId,
        access: AttachmentUpdate,
        verification: Option<&VerifyReport>,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<AttachmentRecord> {
        let AttachmentUpdate { read, write } = access;
        if !read && !write {
            return Err(both_false());
        }
        let verified_at = timestamp::format(self.clock().await?);
        let mut tx = self.write_tx().await?;
        self.require_both(&mut tx, integration_id, stack_id).await?;
        record_with_change(
            &mut tx,
            integration_id,
            verification,
            self.sqlite,
            &verified_at,
        )
        .await?;
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO attachments (integration_id, stack_id, read, write, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(integration_id.as_str())
        .bind(stack_id.as_str())
        .bind(i64::from(read))
        .bind(i64::from(write))
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(ApiError::conflict(
                    ProblemCode::AlreadyAttached,
                    format!(
                        "integration {integration_id:?} is already attached to stack {stack_id:?}; \
                         update that attachment instead"
                    ),
                ));
            }
            other => {
                other?;
            }
        }
        let record = AttachmentRecord {
            integration_id: integration_id.clone(),
            stack_id: stack_id.clone(),
            read,
            write,
            created_at: at.clone(),
            updated_at: at,
            waiting_for: BTreeMap::new(),
        };
        super::spaces::out_of_reach(&mut tx, self.sqlite).await?;
        idempotency::remember_if(&mut tx, once).await?;
        let verified_config = verification.map(|r| r.config.as_str());
        self.commit_phases(
            tx,
            record,
            &Phase::from_flags(read, write),
            verified_config,
            audit,
        )
        .await
    }

    /// Changes an attachment's phases in one transaction: removed phases go
    /// at once, added ones arrive confirmed by `verification` (or
    /// unverified when the broker skips verification), kept ones keep their
    /// verification.
    pub async fn update_attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
        read: bool,
        write: bool,
        verification: Option<&VerifyReport>,
        audit: &AuditEvent,
    ) -> ApiResult<AttachmentRecord> {
        if !read && !write {
            return Err(both_false());
        }
        let verified_at = timestamp::format(self.clock().await?);
        let mut tx = self.write_tx().await?;
        let before = fetch(&mut *tx, integration_id, stack_id).await?;
        record_with_change(
            &mut tx,
            &before.integration_id,
            verification,
            self.sqlite,
            &verified_at,
        )
        .await?;
        sqlx::query(
            "UPDATE attachments SET read = $1, write = $2, updated_at = $3 \
             WHERE integration_id = $4 AND stack_id = $5",
        )
        .bind(i64::from(read))
        .bind(i64::from(write))
        .bind(now())
        .bind(integration_id)
        .bind(stack_id)
        .execute(&mut *tx)
        .await?;
        let after = Phase::from_flags(read, write);
        let removed: Vec<Phase> = before
            .phases()
            .into_iter()
            .filter(|p| !after.contains(p))
            .collect();
        for phase in &removed {
            sqlx::query(
                "DELETE FROM stack_phases WHERE integration_id = $1 AND stack_id = $2 AND phase = $3",
            )
            .bind(integration_id)
            .bind(stack_id)
            .bind(phase.as_str())
            .execute(&mut *tx)
            .await?;
        }
        hand_over(&mut tx, &before.stack_id, &removed, audit).await?;
        former_trust::retire(&mut tx, &before.integration_id, &before.stack_id, &removed).await?;
        let added: Vec<Phase> = after
            .into_iter()
            .filter(|p| !before.phases().contains(p))
            .collect();
        let record = fetch(&mut *tx, integration_id, stack_id).await?;
        let verified_config = verification.map(|r| r.config.as_str());
        self.commit_phases(tx, record, &added, verified_config, audit)
            .await
    }

    /// Writes `phases` of the record into `stack_phases`, the audit event,
    /// and commits. A phase another integration serves for the stack is
    /// written as waiting for it (the event says so); one a third
    /// integration already waits for becomes a 409 naming both.
    async fn commit_phases(
        &self,
        mut tx: Transaction<'static, Any>,
        mut record: AttachmentRecord,
        phases: &[Phase],
        verified_config: Option<&str>,
        audit: &AuditEvent,
    ) -> ApiResult<AttachmentRecord> {
        for phase in phases {
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT integration_id FROM stack_phases \
                 WHERE stack_id = $1 AND phase = $2 AND waiting = 0",
            )
            .bind(record.stack_id.as_str())
            .bind(phase.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO stack_phases (stack_id, phase, integration_id, verified_config, waiting) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(record.stack_id.as_str())
            .bind(phase.as_str())
            .bind(record.integration_id.as_str())
            .bind(verified_config)
            .bind(i64::from(holder.is_some()))
            .execute(&mut *tx)
            .await;
            if let Err(e) = inserted {
                drop(tx);
                return Err(if is_unique_violation(&e) {
                    self.explain_phase_conflict(record.stack_id.as_str()).await
                } else {
                    e.into()
                });
            }
            former_trust::clear(&mut tx, &record.integration_id, &record.stack_id, *phase).await?;
            if let Some(holder) = holder {
                let holder = holder.parse().map_err(|e: crate::model::Invalid| {
                    ApiError::Internal(format!("stack_phases.integration_id: {}", e.0))
                })?;
                record.waiting_for.insert(*phase, holder);
            }
        }
        let mut audit = audit.clone();
        if !record.waiting_for.is_empty() {
            let waits: Vec<String> = record
                .waiting_for
                .iter()
                .map(|(phase, holder)| format!("{phase} (served by integration {holder})"))
                .collect();
            let note = format!(
                "verified; waits to serve {} until that attachment or phase is removed \
                 (make-before-break)",
                waits.join(", ")
            );
            audit.detail = if audit.detail.is_empty() {
                note
            } else {
                format!("{}; {note}", audit.detail)
            };
        }
        audit::insert(&mut *tx, &audit).await?;
        self.commit(tx).await?;
        Ok(record)
    }

    pub async fn attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
    ) -> ApiResult<AttachmentRecord> {
        let record = fetch(&self.pool, integration_id, stack_id).await?;
        let mut one = with_handovers(
            &self.pool,
            vec![record],
            Some(integration_id),
            Some(stack_id),
        )
        .await?;
        Ok(one.remove(0))
    }

    /// Every attached stack of an integration with its phases, by stack:
    /// what its role must trust, and what a verification confirms.
    pub async fn attached(&self, integration_id: &str) -> ApiResult<Targets> {
        Ok(self
            .attachments_of_integration(integration_id, &Page::all())
            .await?
            .into_iter()
            .map(|a| {
                let phases = a.phases();
                (a.stack_id, phases)
            })
            .collect())
    }

    /// By stack id.
    pub async fn attachments_of_integration(
        &self,
        integration_id: &str,
        page: &Page,
    ) -> ApiResult<Vec<AttachmentRecord>> {
        self.integration(integration_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE integration_id = $1 AND \
             ($2 IS NULL OR stack_id > $2) AND {} ORDER BY stack_id LIMIT $3",
            Page::space_filter(
                "(SELECT space FROM stacks WHERE stacks.id = attachments.stack_id)",
                4
            )
        ))
        .bind(integration_id)
        .bind(page.after(0))
        .bind(page.fetch())
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        let records = rows.iter().map(from_row).collect::<ApiResult<_>>()?;
        with_handovers(&self.pool, records, Some(integration_id), None).await
    }

    /// By integration id.
    pub async fn attachments_of_stack(
        &self,
        stack_id: &str,
        page: &Page,
    ) -> ApiResult<Vec<AttachmentRecord>> {
        self.stack(stack_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE stack_id = $1 AND \
             ($2 IS NULL OR integration_id > $2) ORDER BY integration_id LIMIT $3"
        ))
        .bind(stack_id)
        .bind(page.after(0))
        .bind(page.fetch())
        .fetch_all(&self.pool)
        .await?;
        let records = rows.iter().map(from_row).collect::<ApiResult<_>>()?;
        with_handovers(&self.pool, records, None, Some(stack_id)).await
    }

    pub async fn detach(
        &self,
        integration_id: &str,
        stack_id: &str,
        audit: &AuditEvent,
    ) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        let before = fetch(&mut *tx, integration_id, stack_id).await?;
        let served: Vec<String> = sqlx::query_scalar(
            "SELECT phase FROM stack_phases \
             WHERE integration_id = $1 AND stack_id = $2 AND waiting = 0",
        )
        .bind(integration_id)
        .bind(stack_id)
        .fetch_all(&mut *tx)
        .await?;
        let done =
            sqlx::query("DELETE FROM attachments WHERE integration_id = $1 AND stack_id = $2")
                .bind(integration_id)
                .bind(stack_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found(
                "attachment",
                format!("{integration_id}/{stack_id}"),
            ));
        }
        let served: Vec<Phase> = served.iter().filter_map(|p| p.parse().ok()).collect();
        let stack: StackId = stack_id
            .parse()
            .map_err(|e: crate::model::Invalid| ApiError::Internal(e.0))?;
        hand_over(&mut tx, &stack, &served, audit).await?;
        former_trust::retire(&mut tx, &before.integration_id, &stack, &before.phases()).await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn require_both(
        &self,
        tx: &mut sqlx::AnyConnection,
        integration_id: &str,
        stack_id: &str,
    ) -> ApiResult<()> {
        let integration: Option<String> =
            sqlx::query_scalar("SELECT id FROM integrations WHERE id = $1")
                .bind(integration_id)
                .fetch_optional(&mut *tx)
                .await?;
        if integration.is_none() {
            return Err(ApiError::not_found("integration", integration_id));
        }
        let stack: Option<String> = sqlx::query_scalar("SELECT id FROM stacks WHERE id = $1")
            .bind(stack_id)
            .fetch_optional(&mut *tx)
            .await?;
        if stack.is_none() {
            return Err(ApiError::invalid(
                "stack_id",
                format!("stack {stack_id:?} does not exist; create it first"),
            ));
        }
        Ok(())
    }

    /// The 409 for a phase that has an integration serving it and another
    /// waiting for it already, naming both.
    async fn explain_phase_conflict(&self, stack_id: &str) -> ApiError {
        let holders: Vec<(String, String)> = sqlx::query_as(
            "SELECT phase, integration_id FROM stack_phases WHERE stack_id = $1 \
             ORDER BY phase, waiting",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        phase_taken(stack_id, &holders)
    }
}

/// Records the verification that allows a change, in the change's
/// transaction, after checking it verified the integration's configuration
/// as it is now: one changed meanwhile makes the verification moot.
async fn record_with_change(
    tx: &mut Transaction<'static, Any>,
    integration_id: &IntegrationId,
    verification: Option<&VerifyReport>,
    sqlite: bool,
    at: &str,
) -> ApiResult<()> {
    let Some(report) = verification else {
        return Ok(());
    };
    let current = super::integrations::fetch_locked(tx, integration_id.as_str(), sqlite).await?;
    if current.vend_config().fingerprint() != report.config {
        return Err(ApiError::conflict(
            ProblemCode::ConfigurationChanged,
            format!(
                "integration {integration_id} changed while this change was verified against its \
                 previous configuration; nothing was applied: try again"
            ),
        ));
    }
    super::integrations::write_verification(
        tx,
        integration_id.as_str(),
        report,
        Some(&report.config),
        at,
    )
    .await
}

fn phase_taken(stack_id: &str, holders: &[(String, String)]) -> ApiError {
    let held: Vec<String> = holders
        .iter()
        .map(|(phase, integration)| format!("{phase}: integration {integration}"))
        .collect();
    ApiError::conflict(
        ProblemCode::PhaseTaken,
        format!(
            "stack {stack_id:?} already has an integration serving that phase and another \
             waiting to take it over ({}); a stack has one integration per phase and at most one \
             waiting for it: remove one of them first",
            if held.is_empty() {
                "taken by a concurrent request".to_string()
            } else {
                held.join(", ")
            }
        ),
    )
}

/// Hands each of the stack's `freed` phases (no integration serves it any
/// more) to the integration waiting for it, if any, in the transaction of
/// the change that freed it, with an `attachment.handover` event each: the
/// phase is never without an integration while one waits. The waiting
/// attachment was verified when it was made, so it vends at once.
async fn hand_over(
    tx: &mut Transaction<'static, Any>,
    stack_id: &StackId,
    freed: &[Phase],
    cause: &AuditEvent,
) -> ApiResult<()> {
    for phase in freed {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT integration_id FROM stack_phases \
             WHERE stack_id = $1 AND phase = $2 AND waiting = 1 AND NOT EXISTS \
             (SELECT 1 FROM stack_phases s WHERE s.stack_id = $1 AND s.phase = $2 AND s.waiting = 0)",
        )
        .bind(stack_id.as_str())
        .bind(phase.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let Some(next) = next else { continue };
        sqlx::query(
            "UPDATE stack_phases SET waiting = 0 WHERE stack_id = $1 AND phase = $2 AND waiting = 1",
        )
        .bind(stack_id.as_str())
        .bind(phase.as_str())
        .execute(&mut **tx)
        .await?;
        let event = AuditEvent {
            stack_id: Some(stack_id.to_string()),
            phase: Some(*phase),
            integration_id: Some(next.clone()),
            detail: format!(
                "stack {stack_id}'s {phase} phase passed to integration {next} ({} {})",
                cause.action, cause.target
            ),
            ..AuditEvent::new(
                cause.key_id.as_deref(),
                crate::model::audit::ATTACHMENT_HANDOVER,
                &format!("attachment/{next}/{stack_id}"),
            )
        };
        audit::insert(&mut **tx, &event).await?;
    }
    Ok(())
}

/// One attachment, read through the pool or inside a transaction.
async fn fetch<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    integration_id: &str,
    stack_id: &str,
) -> ApiResult<AttachmentRecord> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE integration_id = $1 AND stack_id = $2"
    ))
    .bind(integration_id)
    .bind(stack_id)
    .fetch_optional(executor)
    .await?
    .ok_or_else(|| ApiError::not_found("attachment", format!("{integration_id}/{stack_id}")))?;
    from_row(&row)
}

impl Store {
    /// How many stacks each integration is attached to, for the
    /// integrations list (one query, not one per row).
    pub async fn attachment_counts(
        &self,
        spaces: Option<String>,
    ) -> ApiResult<std::collections::HashMap<String, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT a.integration_id, COUNT(*) FROM attachments a \
             JOIN stacks s ON s.id = a.stack_id WHERE {} GROUP BY a.integration_id",
            Page::space_filter("s.space", 1)
        ))
        .bind(spaces)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}
