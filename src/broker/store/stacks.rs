//! Stacks: the units of infrastructure that ask for credentials.

use super::Page;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit;
use super::{Once, Store, idempotency, labels_from, labels_to_text, parsed};
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::timestamp::now;
use crate::wire::ProblemCode;
use crate::wire::{AuditEvent, Stack};

const COLUMNS: &str = "id, name, space, labels, description, created_at, updated_at";

fn from_row(row: &AnyRow) -> ApiResult<Stack> {
    Ok(Stack {
        id: parsed(row, "id")?,
        name: row.try_get("name")?,
        space: row.try_get("space")?,
        labels: labels_from(row)?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn create_stack(
        &self,
        stack: &Stack,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<Stack> {
        let at = now();
        let mut tx = self.write_tx().await?;
        super::spaces::hold_space(&mut tx, self.sqlite, "space", &stack.space).await?;
        let result = sqlx::query(
            "INSERT INTO stacks (id, name, space, labels, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(stack.id.as_str())
        .bind(&stack.name)
        .bind(&stack.space)
        .bind(labels_to_text(&stack.labels))
        .bind(&stack.description)
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {
                idempotency::remember_if(&mut tx, once).await?;
                audit::insert(&mut *tx, audit).await?;
                self.commit(tx).await?;
                self.stack(stack.id.as_str()).await
            }
            Err(e) if is_unique_violation(&e) => Err(ApiError::conflict(
                ProblemCode::StackExists,
                format!(
                    "a stack with id {:?} already exists; import it instead of creating it",
                    stack.id.as_str()
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn stack(&self, id: &str) -> ApiResult<Stack> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM stacks WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| ApiError::not_found("stack", id))?;
        from_row(&row)
    }

    /// By id.
    pub async fn stacks(&self, page: &Page) -> ApiResult<Vec<Stack>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM stacks WHERE ($1 IS NULL OR id > $1) AND {} ORDER BY id LIMIT $2",
            Page::space_filter("space", 3)
        ))
        .bind(page.after(0))
        .bind(page.fetch())
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a stack's mutable fields; its id never changes.
    pub async fn replace_stack(&self, stack: &Stack, audit: &AuditEvent) -> ApiResult<Stack> {
        let mut tx = self.write_tx().await?;
        super::spaces::hold_space(&mut tx, self.sqlite, "space", &stack.space).await?;
        let done = sqlx::query(
            "UPDATE stacks SET name = $1, space = $2, labels = $3, description = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&stack.name)
        .bind(&stack.space)
        .bind(labels_to_text(&stack.labels))
        .bind(&stack.description)
        .bind(now())
        .bind(stack.id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("stack", stack.id.as_str()));
        }
        super::spaces::out_of_reach(&mut tx, self.sqlite).await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        self.stack(stack.id.as_str()).await
    }

    /// Deletes a stack that nothing is attached to; a stack with attachments
    /// is a 409 naming them, so nothing is detached by accident.
    pub async fn delete_stack(&self, id: &str, audit: &AuditEvent) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        let attached: Vec<String> = sqlx::query_scalar(
            "SELECT integration_id FROM attachments WHERE stack_id = $1 ORDER BY integration_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !attached.is_empty() {
            return Err(ApiError::conflict(
                ProblemCode::StackHasAttachments,
                format!(
                    "stack {id:?} is attached to integration(s) {}; delete those attachments first",
                    attached.join(", ")
                ),
            ));
        }
        // Written before the stack goes, so the event can still name its space.
        audit::insert(&mut *tx, audit).await?;
        let done = sqlx::query("DELETE FROM stacks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("stack", id));
        }
        self.commit(tx).await?;
        Ok(())
    }
}
