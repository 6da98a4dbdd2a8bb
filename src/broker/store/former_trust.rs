//! `former_trust`: stacks' phases detached from an integration whose
//! External IDs its role may still accept. Attachment changes write and
//! clear rows in their own transactions; verification reads them to ask
//! the role, and forgets the ones it refuses.

use sqlx::{Any, Transaction};

use super::Store;
use crate::broker::error::{ApiError, ApiResult};
use crate::model::timestamp::now;
use crate::model::{IntegrationId, Phase, StackId};

/// How many detached stacks' phases a verification asks the role about.
pub const FORMER_PROBED: i64 = 16;

/// Records, in the change's transaction, that `stack_id`'s `phases` no
/// longer use `integration_id`: its role may still trust their External
/// IDs, which verification then asks about.
pub(super) async fn retire(
    tx: &mut Transaction<'static, Any>,
    integration_id: &IntegrationId,
    stack_id: &StackId,
    phases: &[Phase],
) -> ApiResult<()> {
    let at = now();
    for phase in phases {
        sqlx::query(
            "INSERT INTO former_trust (integration_id, stack_id, phase, retired_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (integration_id, stack_id, phase) \
             DO UPDATE SET retired_at = excluded.retired_at",
        )
        .bind(integration_id.as_str())
        .bind(stack_id.as_str())
        .bind(phase.as_str())
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Forgets, in an attach's transaction, that `stack_id`'s `phase` was
/// detached from `integration_id`: it uses the integration again.
pub(super) async fn clear(
    tx: &mut Transaction<'static, Any>,
    integration_id: &IntegrationId,
    stack_id: &StackId,
    phase: Phase,
) -> ApiResult<()> {
    sqlx::query(
        "DELETE FROM former_trust WHERE integration_id = $1 AND stack_id = $2 AND phase = $3",
    )
    .bind(integration_id.as_str())
    .bind(stack_id.as_str())
    .bind(phase.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Stacks' phases detached from `integration_id` whose External IDs
    /// its role may still accept, most recently detached first, at most
    /// [`FORMER_PROBED`] of them (each costs one STS call per verification).
    pub async fn former_trust(&self, integration_id: &str) -> ApiResult<Vec<(StackId, Phase)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT stack_id, phase FROM former_trust WHERE integration_id = $1 \
             ORDER BY retired_at DESC, stack_id, phase LIMIT $2",
        )
        .bind(integration_id)
        .bind(FORMER_PROBED)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(stack, phase)| {
                let stack = stack.parse().map_err(|e: crate::model::Invalid| {
                    ApiError::Internal(format!("former_trust.stack_id: {}", e.0))
                })?;
                let phase = phase.parse().map_err(|e: crate::model::Invalid| {
                    ApiError::Internal(format!("former_trust.phase: {}", e.0))
                })?;
                Ok((stack, phase))
            })
            .collect()
    }

    /// Forgets the pairs the role was found to refuse: nothing left to warn
    /// about, nothing to probe again.
    pub async fn forget_former_trust(
        &self,
        integration_id: &str,
        refused: &[(StackId, Phase)],
    ) -> ApiResult<()> {
        if refused.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for (stack, phase) in refused {
            sqlx::query(
                "DELETE FROM former_trust WHERE integration_id = $1 AND stack_id = $2 AND phase = $3",
            )
            .bind(integration_id)
            .bind(stack.as_str())
            .bind(phase.as_str())
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }
}
