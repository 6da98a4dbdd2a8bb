//! API keys: only the SHA-256 of each secret is stored.
//!
//! `role` holds `admin` for every key that manages the registry and
//! `runner` for runner keys (migration 0015 says why); `access` and
//! `space_id` hold a registry key's level and space.

use super::Page;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Once, Store, audit, idempotency};
use crate::broker::error::{ApiError, ApiResult};
use crate::model::Phase;
use crate::model::space::ROOT;
use crate::wire::ProblemCode;
use crate::wire::{ApiKey, AuditEvent, KeyRole};

/// A key as stored, hash included; never sent to clients as is.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key: ApiKey,
    pub secret_hash: String,
}

const COLUMNS: &str = "id, secret_hash, role, access, space_id, stack_id, phases, description, created_at, expires_at, last_used_at, revoked_at";

/// A root admin key neither revoked nor expired at `$1`: the keys that
/// must not all go, or nobody can manage the broker.
const USABLE_ROOT_ADMIN: &str = "role = 'admin' AND access = 'admin' AND space_id = 'root' \
     AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)";

fn from_row(row: &AnyRow) -> ApiResult<StoredKey> {
    let access: Option<String> = row.try_get("access")?;
    let phases: String = row.try_get("phases")?;
    let stack_id: Option<String> = row.try_get("stack_id")?;
    let space_id: Option<String> = row.try_get("space_id")?;
    Ok(StoredKey {
        secret_hash: row.try_get("secret_hash")?,
        key: ApiKey {
            id: row.try_get("id")?,
            role: match access.as_deref() {
                Some("admin") => KeyRole::Admin,
                Some("write") => KeyRole::Write,
                Some("read") => KeyRole::Read,
                _ => KeyRole::Runner,
            },
            space_id: space_id.map(|s| s.parse()).transpose().map_err(
                |e: crate::model::Invalid| ApiError::Internal(format!("stored space_id: {e}")),
            )?,
            stack_id: stack_id.map(|s| s.parse()).transpose().map_err(
                |e: crate::model::Invalid| ApiError::Internal(format!("stored stack_id: {e}")),
            )?,
            phases: phases
                .split(',')
                .filter_map(|p| p.parse::<Phase>().ok())
                .collect(),
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            last_used_at: row.try_get("last_used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        },
    })
}

impl Store {
    /// Stores a key with its audit event, in one transaction.
    pub async fn insert_key(
        &self,
        stored: &StoredKey,
        audit: &AuditEvent,
        once: Option<&Once>,
    ) -> ApiResult<()> {
        let k = &stored.key;
        let phases: Vec<&str> = k.phases.iter().map(|p| p.as_str()).collect();
        let mut tx = self.write_tx().await?;
        if let Some(space) = &k.space_id {
            super::spaces::hold_space(&mut tx, self.sqlite, "space_id", space.as_str()).await?;
        }
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, role, access, space_id, stack_id, phases, description, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&k.id)
        .bind(&stored.secret_hash)
        .bind(match k.role {
            KeyRole::Runner => "runner",
            _ => "admin",
        })
        .bind(k.role.level().map(|l| l.as_str()))
        .bind(k.space_id.as_ref().map(|s| s.as_str()))
        .bind(k.stack_id.as_ref().map(|s| s.as_str()))
        .bind(phases.join(","))
        .bind(&k.description)
        .bind(&k.created_at)
        .bind(&k.expires_at)
        .execute(&mut *tx)
        .await?;
        idempotency::remember_if(&mut tx, once).await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Stores the bootstrap admin key, unless the store was bootstrapped
    /// already (by another broker starting at the same time): then nothing
    /// is written and the answer is false.
    pub async fn insert_bootstrap_key(
        &self,
        stored: &StoredKey,
        audit: &AuditEvent,
    ) -> ApiResult<bool> {
        let k = &stored.key;
        let mut tx = self.write_tx().await?;
        let claimed = sqlx::query("INSERT INTO bootstrap (id, key_id, at) VALUES (1, $1, $2)")
            .bind(&k.id)
            .bind(&k.created_at)
            .execute(&mut *tx)
            .await;
        match claimed {
            Err(e) if crate::broker::error::is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, role, access, space_id, stack_id, phases, description, created_at, expires_at) \
             VALUES ($1, $2, 'admin', 'admin', 'root', NULL, '', $3, $4, $5)",
        )
        .bind(&k.id)
        .bind(&stored.secret_hash)
        .bind(&k.description)
        .bind(&k.created_at)
        .bind(&k.expires_at)
        .execute(&mut *tx)
        .await?;
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// Whether the bootstrap key is the only root admin key still usable.
    pub async fn only_bootstrap_admin(&self, now: &str) -> ApiResult<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(&format!(
            "SELECT b.key_id, (SELECT COUNT(*) FROM api_keys WHERE {USABLE_ROOT_ADMIN}) \
             FROM bootstrap b JOIN api_keys bk ON bk.id = b.key_id \
             WHERE bk.revoked_at IS NULL AND (bk.expires_at IS NULL OR bk.expires_at > $1)"
        ))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(id, admins)| (admins == 1).then_some(id)))
    }

    pub async fn key(&self, id: &str) -> ApiResult<Option<StoredKey>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Oldest first.
    pub async fn keys(&self, page: &Page) -> ApiResult<Vec<ApiKey>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ($1 IS NULL OR created_at > $1 OR \
             (created_at = $1 AND id > $2)) AND {} ORDER BY created_at, id LIMIT $3",
            // A runner key is in its stack's space.
            Page::space_filter(
                "COALESCE(space_id, (SELECT space FROM stacks WHERE stacks.id = api_keys.stack_id))",
                4
            )
        ))
        .bind(page.after(0))
        .bind(page.after(1))
        .bind(page.fetch())
        .bind(page.spaces())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| from_row(r).map(|s| s.key)).collect()
    }

    pub async fn key_count(&self) -> ApiResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn revoke_key(&self, id: &str, at: &str, audit: &AuditEvent) -> ApiResult<ApiKey> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let key = row
            .as_ref()
            .map(from_row)
            .transpose()?
            .ok_or_else(|| ApiError::not_found("API key", id))?
            .key;
        if done.rows_affected() == 0 {
            return Err(ApiError::conflict(
                ProblemCode::KeyAlreadyRevoked,
                format!("API key {id:?} was already revoked"),
            ));
        }
        let root_admin =
            key.role == KeyRole::Admin && key.space_id.as_ref().is_some_and(|s| s.as_str() == ROOT);
        if root_admin && self.usable_root_admin_keys(&mut tx, at).await? == 0 {
            // Dropping the transaction undoes the revocation.
            return Err(ApiError::conflict(
                ProblemCode::LastAdminKey,
                format!(
                    "API key {id:?} is the last usable admin key of the root space: revoking it \
                     would lock every administrator out of this broker. Create another admin key \
                     first (`deputy key create --role admin`), then revoke this one"
                ),
            ));
        }
        audit::insert(&mut *tx, audit).await?;
        self.commit(tx).await?;
        Ok(key)
    }

    /// Root admin keys neither revoked nor expired at `at`, counted inside
    /// `tx`. On PostgreSQL their rows are locked first, so two revocations
    /// racing for the last two cannot both see one left; SQLite's write
    /// transactions already exclude each other.
    async fn usable_root_admin_keys(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        at: &str,
    ) -> ApiResult<i64> {
        if !self.sqlite {
            sqlx::query(&format!(
                "SELECT id FROM api_keys WHERE {USABLE_ROOT_ADMIN} FOR UPDATE"
            ))
            .bind(at)
            .fetch_all(&mut **tx)
            .await?;
        }
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM api_keys WHERE {USABLE_ROOT_ADMIN}"
        ))
        .bind(at)
        .fetch_one(&mut **tx)
        .await?)
    }

    /// Records use, unless another request already did since `stale_before`.
    pub async fn touch_key(&self, id: &str, at: &str, stale_before: &str) -> ApiResult<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(at)
        .bind(id)
        .bind(stale_before)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
