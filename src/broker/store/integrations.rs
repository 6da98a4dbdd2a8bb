//! AWS integrations: a role deputy assumes, and how.

use super::Page;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit;
use super::{Once, Store, flag, idempotency, labels_from, labels_to_text, parsed};
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::timestamp::now;
use crate::model::{Phase, StackId};
use crate::wire::ProblemCode;
use crate::wire::{AuditEvent, Integration, VerificationState, VerifyReport};

const COLUMNS: &str = "id, name, role_arn, region, duration_seconds, generate_credentials_in_worker, \
    external_id, tag_session, set_source_identity, trust_scope, read_session_policy_arns, \
    write_session_policy_arns, labels, space, description, last_verified_at, last_verification, verified_config, created_at, updated_at";

/// A JSON array of policy ARNs.
fn arns_from(row: &AnyRow, column: &str) -> ApiResult<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| ApiError::Internal(format!("stored {column}: {e}")))
}

fn arns_text(arns: &[String]) -> String {
    serde_json::to_string(arns).expect("strings serialize")
}

fn from_row(row: &AnyRow) -> ApiResult<Integration> {
    read_row(row).map(|(integration, _)| integration)
}

/// An integration and the fingerprint of its current configuration,
/// computed once: its verification state compares it with the one verified.
fn read_row(row: &AnyRow) -> ApiResult<(Integration, String)> {
    let verification: Option<String> = row.try_get("last_verification")?;
    let external_id: Option<String> = row.try_get("external_id")?;
    let verified_config: Option<String> = row.try_get("verified_config")?;
    let mut integration = Integration {
        id: parsed(row, "id")?,
        name: row.try_get("name")?,
        role_arn: parsed(row, "role_arn")?,
        region: parsed(row, "region")?,
        duration_seconds: row.try_get("duration_seconds")?,
        generate_credentials_in_worker: flag(row, "generate_credentials_in_worker")?,
        external_id: external_id.map(|e| e.parse()).transpose().map_err(
            |e: crate::model::Invalid| ApiError::Internal(format!("stored external_id: {e}")),
        )?,
        tag_session: flag(row, "tag_session")?,
        set_source_identity: flag(row, "set_source_identity")?,
        trust_scope: parsed(row, "trust_scope")?,
        read_session_policy_arns: arns_from(row, "read_session_policy_arns")?,
        write_session_policy_arns: arns_from(row, "write_session_policy_arns")?,
        labels: labels_from(row)?,
        space: row.try_get("space")?,
        description: row.try_get("description")?,
        last_verified_at: row.try_get("last_verified_at")?,
        last_verification: verification.and_then(|v| serde_json::from_str(&v).ok()),
        verification_state: VerificationState::Unverified,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    };
    let current = integration.vend_config().fingerprint();
    integration.verification_state = VerificationState::of(
        verified_config.as_deref() == Some(current.as_str()),
        integration.last_verification.as_ref(),
    );
    Ok((integration, current))
}

/// The integration a vend would use, and whether the invariant holds.
pub struct VendTarget {
    pub integration: Integration,
    /// The role passed its role-level probes and this phase was confirmed,
    /// both under the integration's current configuration.
    pub verified: bool,
}

/// Names are unique. The holder's id is named when it can be read, since
/// it is what an import needs, with the same hint as a stack's id.
/// Which of the integration's unique fields another integration holds: its
/// name, or its custom External ID.
async fn taken(store: &Store, i: &Integration, creating: bool) -> ApiError {
    match store.integration_by_name(&i.name).await {
        Ok(holder) if holder.id != i.id => {
            let hint = if creating {
                "import it instead of creating it, or pick another name"
            } else {
                "names are unique: pick another"
            };
            ApiError::conflict(
                ProblemCode::IntegrationNameTaken,
                format!(
                    "an integration named {:?} already exists (id {}); {hint}",
                    i.name, holder.id
                ),
            )
        }
        _ => ApiError::invalid(
            "external_id",
            format!(
                "another integration already uses the custom External ID {:?}: custom External IDs \
                 are unique per broker, or each integration's role would accept the other's runs; \
                 pick another",
                i.external_id
                    .as_ref()
                    .map(|e| e.as_str())
                    .unwrap_or_default()
            ),
        ),
    }
}

impl Store {
    pub async fn create_integration(
        &self,
        i: &Integration,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<Integration> {
        let at = now();
        let mut tx = self.write_tx().await?;
        super::spaces::hold_space(&mut tx, self.sqlite, "space", &i.space).await?;
        let result = bind_fields(
            sqlx::query(
                "INSERT INTO integrations (id, name, role_arn, region, duration_seconds, \
                 generate_credentials_in_worker, external_id, tag_session, set_source_identity, \
                 trust_scope, read_session_policy_arns, write_session_policy_arns, labels, space, \
                 description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            ),
            i,
        )
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                Err(taken(self, i, true).await)
            }
            Err(e) => Err(e.into()),
            Ok(_) => {
                idempotency::remember_if(&mut tx, once).await?;
                audit::insert(&mut *tx, audit).await?;
                self.commit(tx).await?;
                self.integration(i.id.as_str()).await
            }
        }
    }

    /// What a vend for a stack's phase would use, in one query (it is on
    /// the path of every vend): the integration serving it, and whether
    /// that phase and the role are verified under the integration's
    /// current configuration.
    pub async fn vend_target(&self, stack_id: &str, phase: Phase) -> ApiResult<Option<VendTarget>> {
        // Built once: both tables have `verified_config`, so the
        // integration's columns are named with their table.
        static QUERY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let columns: Vec<String> = COLUMNS
                .split(',')
                .map(|c| format!("integrations.{}", c.trim()))
                .collect();
            format!(
                "SELECT {}, stack_phases.verified_config AS phase_verified_config \
                 FROM stack_phases JOIN integrations ON integrations.id = stack_phases.integration_id \
                 WHERE stack_phases.stack_id = $1 AND stack_phases.phase = $2 \
                 AND stack_phases.waiting = 0",
                columns.join(", ")
            )
        });
        let row = sqlx::query(QUERY.as_str())
            .bind(stack_id)
            .bind(phase.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (integration, current) = read_row(&row)?;
        let phase_verified: Option<String> = row.try_get("phase_verified_config")?;
        Ok(Some(VendTarget {
            verified: integration.verification_state == VerificationState::Verified
                && phase_verified.as_deref() == Some(current.as_str()),
            integration,
        }))
    }

    pub async fn integration(&self, id: &str) -> ApiResult<Integration> {
        fetch(&self.pool, id).await
    }

    pub async fn integration_by_name(&self, name: &str) -> ApiResult<Integration> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("integration named", name))?;
        from_row(&row)
    }

    /// By name (names are unique).
    pub async fn integrations(&self, page: &Page) -> ApiResult<Vec<Integration>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE ($1 IS NULL OR name > $1) AND {} \
             ORDER BY name LIMIT $2",
            Page::space_filter("space", 3)
        ))
        .bind(page.after(0))
        .bind(page.fetch())
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces an integration's fields. `verification` says what the
    /// change does to what may vend: nothing (no trust-relevant field
    /// changed), the verification that proved the new configuration for
    /// every attached phase (recorded with the change, in one transaction),
    /// or nothing proven (the new configuration vends nothing until a
    /// verification passes).
    pub async fn replace_integration(
        &self,
        i: &Integration,
        verification: Reverified<'_>,
        audit: &AuditEvent,
    ) -> ApiResult<Integration> {
        let at = crate::model::timestamp::format(self.clock().await?);
        let mut tx = self.write_tx().await?;
        super::spaces::hold_space(&mut tx, self.sqlite, "space", &i.space).await?;
        let result = bind_fields(
            sqlx::query(
                "UPDATE integrations SET name = $2, role_arn = $3, region = $4, \
                 duration_seconds = $5, generate_credentials_in_worker = $6, external_id = $7, \
                 tag_session = $8, set_source_identity = $9, trust_scope = $10, \
                 read_session_policy_arns = $11, write_session_policy_arns = $12, labels = $13, \
                 space = $14, description = $15, updated_at = $16 WHERE id = $1",
            ),
            i,
        )
        .bind(now())
        .execute(&mut *tx)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                return Err(taken(self, i, false).await);
            }
            Err(e) => return Err(e.into()),
            Ok(done) if done.rows_affected() == 0 => {
                return Err(ApiError::not_found("integration", i.id.as_str()));
            }
            Ok(_) => {}
        }
        super::spaces::out_of_reach(&mut tx, self.sqlite).await?;
        match verification {
            Reverified::Unchanged => {}
            Reverified::Verified { report, confirmed } => {
                write_verification(&mut tx, i.id.as_str(), report, Some(&report.config), &at)
                    .await?;
                // Exactly the phases this verification confirmed carry its
                // fingerprint; one attached while it ran was never
                // confirmed under the new configuration and vends nothing
                // until a verification confirms it.
                sqlx::query(
                    "UPDATE stack_phases SET verified_config = NULL WHERE integration_id = $1",
                )
                .bind(i.id.as_str())
                .execute(&mut *tx)
                .await?;
                for (stack, phase) in confirmed {
                    sqlx::query(
                        "UPDATE stack_phases SET verified_config = $1 \
                         WHERE integration_id = $2 AND stack_id = $3 AND phase = $4",
                    )
                    .bind(&report.config)
                    .bind(i.id.as_str())
                    .bind(stack.as_str())
                    .bind(phase.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            Reverified::Unverified => {
                sqlx::query("UPDATE integrations SET verified_config = NULL WHERE id = $1")
                    .bind(i.id.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE stack_phases SET verified_config = NULL WHERE integration_id = $1",
                )
                .bind(i.id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        self.integration(i.id.as_str()).await
    }

    /// Records a verification of the integration's current configuration:
    /// the report, the role-level verdict, and the verdict for each
    /// (stack, phase) it confirmed, with its audit event, in one
    /// transaction. `expected_config` guards against a change committed
    /// meanwhile: a verification of a configuration no longer in force
    /// records nothing and says so.
    pub async fn record_verification(
        &self,
        id: &str,
        report: &VerifyReport,
        role_ok: bool,
        phases: &[(StackId, Phase, bool)],
        audit: &AuditEvent,
    ) -> ApiResult<bool> {
        let at = crate::model::timestamp::format(self.clock().await?);
        let mut tx = self.write_tx().await?;
        let still_current = fetch_locked(&mut tx, id, self.sqlite)
            .await?
            .vend_config()
            .fingerprint()
            == report.config;
        if still_current {
            write_verification(
                &mut tx,
                id,
                report,
                role_ok.then_some(report.config.as_str()),
                &at,
            )
            .await?;
            for (stack, phase, ok) in phases {
                sqlx::query(
                    "UPDATE stack_phases SET verified_config = $1 \
                     WHERE integration_id = $2 AND stack_id = $3 AND phase = $4",
                )
                .bind(ok.then_some(report.config.as_str()))
                .bind(id)
                .bind(stack.as_str())
                .bind(phase.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(still_current)
    }

    pub async fn delete_integration(&self, id: &str, audit: &AuditEvent) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        let attached: Vec<String> = sqlx::query_scalar(
            "SELECT stack_id FROM attachments WHERE integration_id = $1 ORDER BY stack_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !attached.is_empty() {
            return Err(ApiError::conflict(
                ProblemCode::IntegrationHasAttachments,
                format!(
                    "integration {id:?} is attached to stack(s) {}; delete those attachments first",
                    attached.join(", ")
                ),
            ));
        }
        // Written before the integration goes, so the event can still name its space.
        audit::insert(&mut *tx, audit).await?;
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("integration", id));
        }
        self.commit(tx).await?;
        Ok(())
    }
}

impl Store {
    /// Broker-mode integrations with attachments whose last verification is
    /// older than `interval`, each claimed for this replica so no other
    /// replica re-verifies it at the same time. The claim ends when the
    /// verification is recorded, or after 15 minutes (the replica that
    /// took it is then presumed gone); it is taken only while the
    /// integration is still due, so a replica that listed it before
    /// another recorded its verification does not run it again.
    pub async fn claim_due_reverifications(
        &self,
        interval: std::time::Duration,
    ) -> ApiResult<Vec<Integration>> {
        let now_t = self.clock().await?;
        let due_before = crate::model::timestamp::format(now_t - interval);
        let claim_until = crate::model::timestamp::format(now_t + time::Duration::minutes(15));
        let at = crate::model::timestamp::format(now_t);
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM integrations WHERE generate_credentials_in_worker = 0 \
             AND (last_verified_at IS NULL OR last_verified_at < $1) \
             AND (reverify_claimed_until IS NULL OR reverify_claimed_until < $2) \
             AND EXISTS (SELECT 1 FROM attachments WHERE attachments.integration_id = integrations.id) \
             ORDER BY id",
        )
        .bind(&due_before)
        .bind(&at)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for id in ids {
            let done = sqlx::query(
                "UPDATE integrations SET reverify_claimed_until = $1 WHERE id = $2 \
                 AND (reverify_claimed_until IS NULL OR reverify_claimed_until < $3) \
                 AND (last_verified_at IS NULL OR last_verified_at < $4)",
            )
            .bind(&claim_until)
            .bind(&id)
            .bind(&at)
            .bind(&due_before)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                claimed.push(self.integration(&id).await?);
            }
        }
        Ok(claimed)
    }
}

impl Store {
    /// Worker-mode integrations whose last recorded verification is older
    /// than `interval` (on the database's clock) stop vending: the broker
    /// hands out no worker parameters until a worker verifies again. Each
    /// is audited in the transaction that takes it out; a replica that
    /// finds it already taken out does nothing. Their ids.
    pub async fn expire_worker_verifications(
        &self,
        interval: std::time::Duration,
    ) -> ApiResult<Vec<String>> {
        let now_t = self.clock().await?;
        let before = crate::model::timestamp::format(now_t - interval);
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM integrations WHERE generate_credentials_in_worker = 1 \
             AND verified_config IS NOT NULL AND last_verified_at < $1 ORDER BY id",
        )
        .bind(&before)
        .fetch_all(&self.pool)
        .await?;
        let mut expired = Vec::new();
        for id in ids {
            let mut tx = self.write_tx().await?;
            let done = sqlx::query(
                "UPDATE integrations SET verified_config = NULL WHERE id = $1 \
                 AND verified_config IS NOT NULL AND last_verified_at < $2",
            )
            .bind(&id)
            .bind(&before)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            sqlx::query("UPDATE stack_phases SET verified_config = NULL WHERE integration_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            audit::insert(
                &mut *tx,
                &AuditEvent {
                    outcome: crate::model::audit::EXPIRED.into(),
                    detail: format!(
                        "the last verification by a worker is older than the re-verification \
                         interval ({} s): the broker hands out no worker parameters until a worker \
                         runs `deputy verify --integration {id} --as-worker` again",
                        interval.as_secs()
                    ),
                    integration_id: Some(id.clone()),
                    ..AuditEvent::new(
                        None,
                        crate::model::audit::INTEGRATION_VERIFICATION_EXPIRED,
                        &format!("integration/{id}"),
                    )
                },
            )
            .await?;
            self.commit(tx).await?;
            expired.push(id);
        }
        Ok(expired)
    }
}

/// What an integration change does to verification (see
/// [`Store::replace_integration`]).
pub enum Reverified<'a> {
    Unchanged,
    /// Verified under the new configuration: the report, and the (stack,
    /// phase) pairs it confirmed.
    Verified {
        report: &'a VerifyReport,
        confirmed: &'a [(StackId, Phase)],
    },
    Unverified,
}

/// The report and, when the role-level probes passed, the fingerprint they
/// proved; `None` takes the integration out of vending. A recorded
/// verification also ends any re-verification claim: the integration is
/// next due one interval from now, whichever replica takes it then.
///
/// `at` is the database's clock: a worker's verification expires when it is
/// older than the re-verification interval, measured on that clock.
pub(super) async fn write_verification(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    report: &VerifyReport,
    verified_config: Option<&str>,
    at: &str,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE integrations SET last_verified_at = $1, last_verification = $2, verified_config = $3, \
         reverify_claimed_until = NULL WHERE id = $4",
    )
    .bind(at)
    .bind(serde_json::to_string(report).expect("report serializes"))
    .bind(verified_config)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The integration, its row locked until the transaction ends: a write
/// that compares the stored configuration with the one it verified must
/// not race a change to it. SQLite's write transactions (`BEGIN
/// IMMEDIATE`) already exclude each other; PostgreSQL's need `FOR UPDATE`.
pub(super) async fn fetch_locked(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    sqlite: bool,
) -> ApiResult<Integration> {
    let lock = if sqlite { "" } else { " FOR UPDATE" };
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integrations WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ApiError::not_found("integration", id))?;
    from_row(&row)
}

/// One integration, through the pool or inside a transaction.
pub(super) async fn fetch<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
) -> ApiResult<Integration> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM integrations WHERE id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| ApiError::not_found("integration", id))?;
    from_row(&row)
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `$1` to `$15`: the id and every stored field of `i`, in the
/// column order the insert and the update both name, so a new column is
/// bound in one place.
fn bind_fields<'q>(query: Query<'q>, i: &'q Integration) -> Query<'q> {
    query
        .bind(i.id.as_str())
        .bind(&i.name)
        .bind(i.role_arn.as_str())
        .bind(i.region.as_str())
        .bind(i.duration_seconds)
        .bind(i64::from(i.generate_credentials_in_worker))
        .bind(i.external_id.as_ref().map(|e| e.as_str()))
        .bind(i64::from(i.tag_session))
        .bind(i64::from(i.set_source_identity))
        .bind(i.trust_scope.as_str())
        .bind(arns_text(&i.read_session_policy_arns))
        .bind(arns_text(&i.write_session_policy_arns))
        .bind(labels_to_text(&i.labels))
        .bind(&i.space)
        .bind(&i.description)
}
