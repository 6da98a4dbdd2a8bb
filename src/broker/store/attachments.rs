//! Attachments: which stacks may use an integration, for which phases.

use crate::api::ProblemCode;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, flag, parsed};
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::timestamp::now;
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
}

impl AttachmentRecord {
    pub fn phases(&self) -> Vec<Phase> {
        Phase::ALL
            .into_iter()
            .filter(|p| match p {
                Phase::Read => self.read,
                Phase::Write => self.write,
            })
            .collect()
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
    })
}

fn both_false() -> ApiError {
    ApiError::invalid(
        "read",
        "read and write are both false: an attachment serves at least one phase; set read (plans), \
         write (applies) or both",
    )
}

impl Store {
    /// Attaches in one transaction: the attachment row and one
    /// `stack_phases` row per phase, whose key refuses a second integration
    /// for the same stack and phase even under concurrent requests.
    pub async fn attach(
        &self,
        integration_id: &str,
        stack_id: &str,
        read: bool,
        write: bool,
    ) -> ApiResult<AttachmentRecord> {
        if !read && !write {
            return Err(both_false());
        }
        let mut tx = self.write_tx().await?;
        self.require_both(&mut tx, integration_id, stack_id).await?;
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO attachments (integration_id, stack_id, read, write, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(integration_id)
        .bind(stack_id)
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
            integration_id: parsed_id(integration_id)?,
            stack_id: parsed_id(stack_id)?,
            read,
            write,
            created_at: at.clone(),
            updated_at: at,
        };
        self.commit_with_phases(tx, record).await
    }

    pub async fn update_attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
        read: bool,
        write: bool,
    ) -> ApiResult<AttachmentRecord> {
        if !read && !write {
            return Err(both_false());
        }
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
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
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found(
                "attachment",
                format!("{integration_id}/{stack_id}"),
            ));
        }
        sqlx::query("DELETE FROM stack_phases WHERE integration_id = $1 AND stack_id = $2")
            .bind(integration_id)
            .bind(stack_id)
            .execute(&mut *tx)
            .await?;
        let record = fetch(&mut *tx, integration_id, stack_id).await?;
        self.commit_with_phases(tx, record).await
    }

    /// Writes the record's `stack_phases` rows and commits; a phase that
    /// another integration holds for the stack becomes a 409 naming it.
    async fn commit_with_phases(
        &self,
        mut tx: Transaction<'static, Any>,
        record: AttachmentRecord,
    ) -> ApiResult<AttachmentRecord> {
        if let Err(e) = insert_phases(&mut tx, &record).await {
            drop(tx);
            return Err(self
                .explain_phase_conflict(e, record.stack_id.as_str())
                .await);
        }
        tx.commit().await?;
        Ok(record)
    }

    pub async fn attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
    ) -> ApiResult<AttachmentRecord> {
        fetch(&self.pool, integration_id, stack_id).await
    }

    pub async fn attachments_of_integration(
        &self,
        integration_id: &str,
    ) -> ApiResult<Vec<AttachmentRecord>> {
        self.integration(integration_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE integration_id = $1 ORDER BY stack_id"
        ))
        .bind(integration_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn attachments_of_stack(&self, stack_id: &str) -> ApiResult<Vec<AttachmentRecord>> {
        self.stack(stack_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE stack_id = $1 ORDER BY integration_id"
        ))
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn detach(&self, integration_id: &str, stack_id: &str) -> ApiResult<()> {
        let done =
            sqlx::query("DELETE FROM attachments WHERE integration_id = $1 AND stack_id = $2")
                .bind(integration_id)
                .bind(stack_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found(
                "attachment",
                format!("{integration_id}/{stack_id}"),
            ));
        }
        Ok(())
    }

    async fn require_both(
        &self,
        tx: &mut Transaction<'_, Any>,
        integration_id: &str,
        stack_id: &str,
    ) -> ApiResult<()> {
        let integration: Option<String> =
            sqlx::query_scalar("SELECT id FROM integrations WHERE id = $1")
                .bind(integration_id)
                .fetch_optional(&mut **tx)
                .await?;
        if integration.is_none() {
            return Err(ApiError::not_found("integration", integration_id));
        }
        let stack: Option<String> = sqlx::query_scalar("SELECT id FROM stacks WHERE id = $1")
            .bind(stack_id)
            .fetch_optional(&mut **tx)
            .await?;
        if stack.is_none() {
            return Err(ApiError::invalid(
                "stack_id",
                format!("stack {stack_id:?} does not exist; create it first"),
            ));
        }
        Ok(())
    }

    /// Turns a `stack_phases` key violation into a 409 naming the
    /// integration that already holds the phase.
    async fn explain_phase_conflict(&self, e: sqlx::Error, stack_id: &str) -> ApiError {
        if !is_unique_violation(&e) {
            return e.into();
        }
        let holders: Vec<(String, String)> = sqlx::query_as(
            "SELECT phase, integration_id FROM stack_phases WHERE stack_id = $1 ORDER BY phase",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        let held: Vec<String> = holders
            .iter()
            .map(|(phase, integration)| format!("{phase} by integration {integration}"))
            .collect();
        ApiError::conflict(
            ProblemCode::PhaseTaken,
            format!(
                "stack {stack_id:?} already has an integration for that phase ({}); a stack uses at \
                 most one integration per phase: detach the other one first",
                if held.is_empty() {
                    "held by a concurrent request".to_string()
                } else {
                    held.join(", ")
                }
            ),
        )
    }
}

/// An id the transaction already found in its table, as its model type.
fn parsed_id<T: std::str::FromStr<Err = crate::model::Invalid>>(id: &str) -> ApiResult<T> {
    id.parse()
        .map_err(|e: crate::model::Invalid| ApiError::Internal(e.0))
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

async fn insert_phases(
    tx: &mut Transaction<'_, Any>,
    record: &AttachmentRecord,
) -> Result<(), sqlx::Error> {
    for phase in record.phases() {
        sqlx::query(
            "INSERT INTO stack_phases (stack_id, phase, integration_id) VALUES ($1, $2, $3)",
        )
        .bind(record.stack_id.as_str())
        .bind(phase.as_str())
        .bind(record.integration_id.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
