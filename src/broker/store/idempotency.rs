//! Idempotency keys: which create a key's first attempt made, kept for a
//! day, written in that create's own transaction.

use sqlx::Row;

use super::Store;
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};

/// The row a create with an Idempotency-Key writes beside its object.
#[derive(Debug, Clone)]
pub struct Once {
    /// `model::idempotency::lookup` of the caller and the key.
    pub key_hash: String,
    /// `model::idempotency::fingerprint` of the route and the body.
    pub fingerprint: String,
    /// The object created, named as its audit event's target.
    pub target: String,
    /// A new key's token, encrypted under the idempotency key.
    pub sealed_answer: Option<String>,
    pub created_at: String,
    pub kept_until: String,
}

/// Writes `once` in the create's transaction `tx`, forgetting keys whose
/// time is up on the way. A key already taken (a retry that raced its
/// first attempt) fails the create; the caller then finds the first one.
pub(super) async fn remember(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    once: &Once,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE kept_until < $1")
        .bind(&once.created_at)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (key_hash, fingerprint, target, sealed_answer, created_at, \
         kept_until) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&once.key_hash)
    .bind(&once.fingerprint)
    .bind(&once.target)
    .bind(&once.sealed_answer)
    .bind(&once.created_at)
    .bind(&once.kept_until)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Internal(
                "an earlier request with this Idempotency-Key was answered meanwhile".into(),
            )
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Writes `once`, when there is one, in `tx`.
pub(super) async fn remember_if(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    once: Option<&Once>,
) -> ApiResult<()> {
    match once {
        Some(once) => remember(tx, once).await,
        None => Ok(()),
    }
}

impl Store {
    /// The create remembered under `key_hash`, unless its time is up at
    /// `now`.
    pub async fn remembered(&self, key_hash: &str, now: &str) -> ApiResult<Option<Once>> {
        let row = sqlx::query(
            "SELECT key_hash, fingerprint, target, sealed_answer, created_at, kept_until FROM \
             idempotency_keys WHERE key_hash = $1 AND kept_until >= $2",
        )
        .bind(key_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Once {
                key_hash: row.try_get("key_hash")?,
                fingerprint: row.try_get("fingerprint")?,
                target: row.try_get("target")?,
                sealed_answer: row.try_get("sealed_answer")?,
                created_at: row.try_get("created_at")?,
                kept_until: row.try_get("kept_until")?,
            })
        })
        .transpose()
    }
}
