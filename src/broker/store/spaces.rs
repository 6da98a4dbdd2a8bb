//! Spaces: the tree stacks, integrations and keys belong to. The tree is
//! small (a space per team, not per stack), so it is read whole.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Once, Store, audit, flag, idempotency, labels_from, labels_to_text, parsed};
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::space::{Node, Tree};
use crate::model::timestamp::now;
use crate::wire::{AuditEvent, ProblemCode, Space};

const COLUMNS: &str = "id, name, parent_id, inherit, labels, description, created_at, updated_at";

fn from_row(row: &AnyRow) -> ApiResult<Space> {
    let parent: Option<String> = row.try_get("parent_id")?;
    Ok(Space {
        id: parsed(row, "id")?,
        name: row.try_get("name")?,
        parent_id: parent
            .map(|p| p.parse())
            .transpose()
            .map_err(|e: crate::model::Invalid| {
                ApiError::Internal(format!("stored parent_id: {e}"))
            })?,
        inherit: flag(row, "inherit")?,
        labels: labels_from(row)?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const TREE: &str = "SELECT id, parent_id, inherit FROM spaces";

/// The PostgreSQL advisory lock the attach rule's checks take turns on
/// (any constant no other lock of deputy uses).
const REACH_LOCK: i64 = 0x6465_7075_7479_0028;

fn tree_of(rows: &[AnyRow]) -> ApiResult<Tree> {
    let mut nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let parent: Option<String> = row.try_get("parent_id")?;
        nodes.push((
            parsed(row, "id")?,
            Node {
                parent: parent.and_then(|p| p.parse().ok()),
                inherit: flag(row, "inherit")?,
            },
        ));
    }
    Ok(Tree::new(nodes))
}

/// Refuses, inside a change's transaction, a state where a stack is
/// attached to an integration out of its reach (`model::space`): whatever
/// moved (a stack, an integration, a space's `inherit`), the attach rule
/// holds for every attachment once the change commits, and the refusal
/// names each one that breaks it. Only attachments across spaces are read:
/// one within a space always holds.
pub(super) async fn out_of_reach(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sqlite: bool,
) -> ApiResult<()> {
    // Two changes checked at once (an attach and `inherit` turned off)
    // would each miss the other's uncommitted row under PostgreSQL's read
    // committed: the checks take turns, each seeing what the one before
    // committed. SQLite's write transactions already take turns.
    if !sqlite {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REACH_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let rows = sqlx::query(TREE).fetch_all(&mut **tx).await?;
    let tree = tree_of(&rows)?;
    let across: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT s.id, s.space, i.name, i.space FROM attachments a \
         JOIN stacks s ON s.id = a.stack_id JOIN integrations i ON i.id = a.integration_id \
         WHERE s.space <> i.space ORDER BY s.id, i.name",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut broken = Vec::new();
    for (stack, stack_space, integration, integration_space) in &across {
        let (Ok(s), Ok(i)) = (stack_space.parse(), integration_space.parse()) else {
            continue;
        };
        if let Some(why) = tree.unreachable(&s, &i) {
            broken.push(format!(
                "stack {stack:?} on integration {integration:?}: {why}"
            ));
        }
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(ApiError::conflict(
        ProblemCode::OutOfReach,
        format!(
            "this change would leave {} attachment(s) out of reach, which the attach rule \
             forbids (nothing was changed); detach them first: {}",
            broken.len(),
            broken.join("; ")
        ),
    ))
}

/// Holds `id` for the rest of a change's transaction, which puts an
/// object in that space: refused with a 422 on `field` when the space does
/// not exist. On PostgreSQL the row is share-locked, so a deletion of the
/// space (which locks it for update first) waits for this change and then
/// counts its object, or this change waits for the deletion and finds no
/// space; SQLite's write transactions already exclude each other.
pub(super) async fn hold_space(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sqlite: bool,
    field: &str,
    id: &str,
) -> ApiResult<()> {
    let lock = if sqlite { "" } else { " FOR SHARE" };
    let found: Option<String> =
        sqlx::query_scalar(&format!("SELECT id FROM spaces WHERE id = $1{lock}"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(
            field,
            format!(
                "space {id:?} does not exist: create it first (`deputy space create`) or name another"
            ),
        )),
    }
}

impl Store {
    /// Every space, by id.
    pub async fn spaces(&self) -> ApiResult<Vec<Space>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM spaces ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn space(&self, id: &str) -> ApiResult<Space> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM spaces WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| ApiError::not_found("space", id))?;
        from_row(&row)
    }

    /// The tree, for the rules of `model::space`.
    pub async fn space_tree(&self) -> ApiResult<Tree> {
        let rows = sqlx::query(TREE).fetch_all(&self.pool).await?;
        tree_of(&rows)
    }

    pub async fn create_space(
        &self,
        space: &Space,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<Space> {
        let at = now();
        let mut tx = self.write_tx().await?;
        if let Some(parent) = &space.parent_id {
            hold_space(&mut tx, self.sqlite, "parent_id", parent.as_str()).await?;
        }
        // The audit trail keeps a deleted space's id on its events: a new
        // space of that id would read another team's history.
        let used: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events WHERE space_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM spaces WHERE id = $1)",
        )
        .bind(space.id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(ApiError::conflict(
                ProblemCode::SpaceExists,
                format!(
                    "space id {:?} was used by a space since deleted, whose audit trail keeps it; \
                     choose another id",
                    space.id.as_str()
                ),
            ));
        }
        let result = sqlx::query(
            "INSERT INTO spaces (id, name, parent_id, inherit, labels, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(space.id.as_str())
        .bind(&space.name)
        .bind(space.parent_id.as_ref().map(|p| p.as_str()))
        .bind(i64::from(space.inherit))
        .bind(labels_to_text(&space.labels))
        .bind(&space.description)
        .bind(&at)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {
                idempotency::remember_if(&mut tx, once).await?;
                audit::insert(&mut *tx, audit).await?;
                self.commit(tx).await?;
                self.space(space.id.as_str()).await
            }
            Err(e) if is_unique_violation(&e) => Err(ApiError::conflict(
                ProblemCode::SpaceExists,
                format!(
                    "a space with id {:?} already exists; choose another id",
                    space.id.as_str()
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces a space's name, labels, description and `inherit`; its id
    /// and parent never change. Turning `inherit` off is refused while it
    /// would leave an attachment out of reach (see [`out_of_reach`]).
    pub async fn replace_space(&self, space: &Space, audit: &AuditEvent) -> ApiResult<Space> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE spaces SET name = $1, inherit = $2, labels = $3, description = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&space.name)
        .bind(i64::from(space.inherit))
        .bind(labels_to_text(&space.labels))
        .bind(&space.description)
        .bind(now())
        .bind(space.id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("space", space.id.as_str()));
        }
        out_of_reach(&mut tx, self.sqlite).await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        self.space(space.id.as_str()).await
    }

    /// Deletes an empty space: one that holds no space, stack, integration
    /// or key. A space that does is a 409 naming what is in it.
    pub async fn delete_space(&self, id: &str, audit: &AuditEvent) -> ApiResult<()> {
        let mut tx = self.write_tx().await?;
        if !self.sqlite {
            sqlx::query("SELECT id FROM spaces WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let held: Vec<(String, i64)> = sqlx::query_as(
            "SELECT 'space', COUNT(*) FROM spaces WHERE parent_id = $1 \
             UNION ALL SELECT 'stack', COUNT(*) FROM stacks WHERE space = $1 \
             UNION ALL SELECT 'integration', COUNT(*) FROM integrations WHERE space = $1 \
             UNION ALL SELECT 'unrevoked key', COUNT(*) FROM api_keys WHERE space_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let held: Vec<String> = held
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
            .collect();
        if !held.is_empty() {
            return Err(ApiError::conflict(
                ProblemCode::SpaceNotEmpty,
                format!(
                    "space {id:?} holds {}: move or delete them (and revoke its keys) first",
                    held.join(", ")
                ),
            ));
        }
        // Revoked keys keep their space for the record; they hold the row
        // only by name, so it may go.
        // Written before the space goes, so the event can still name its space.
        audit::insert(&mut *tx, audit).await?;
        let done = sqlx::query("DELETE FROM spaces WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("space", id));
        }
        self.commit(tx).await?;
        Ok(())
    }
}
