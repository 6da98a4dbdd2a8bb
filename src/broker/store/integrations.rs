//! AWS integrations: a role deputy assumes, and how.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::stacks::{labels_from, labels_to_text};
use super::{Store, flag, parsed};
use crate::api::Integration;
use crate::api::ProblemCode;
use crate::broker::error::{ApiError, ApiResult, is_unique_violation};
use crate::model::Phase;
use crate::model::timestamp::now;

const COLUMNS: &str = "id, name, role_arn, region, duration_seconds, generate_credentials_in_worker, \
    external_id, tag_session, labels, space, description, last_verified_at, last_verification, \
    created_at, updated_at";

fn from_row(row: &AnyRow) -> ApiResult<Integration> {
    let verification: Option<String> = row.try_get("last_verification")?;
    let external_id: Option<String> = row.try_get("external_id")?;
    Ok(Integration {
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
        labels: labels_from(row)?,
        space: row.try_get("space")?,
        description: row.try_get("description")?,
        last_verified_at: row.try_get("last_verified_at")?,
        last_verification: verification.and_then(|v| serde_json::from_str(&v).ok()),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(
        ProblemCode::IntegrationNameTaken,
        format!("an integration named {name:?} already exists; names are unique, pick another"),
    )
}

impl Store {
    pub async fn create_integration(&self, i: &Integration) -> ApiResult<Integration> {
        let at = now();
        let result = sqlx::query(
            "INSERT INTO integrations (id, name, role_arn, region, duration_seconds, \
             generate_credentials_in_worker, external_id, tag_session, labels, space, description, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(i.id.as_str())
        .bind(&i.name)
        .bind(i.role_arn.as_str())
        .bind(i.region.as_str())
        .bind(i.duration_seconds)
        .bind(i64::from(i.generate_credentials_in_worker))
        .bind(i.external_id.as_ref().map(|e| e.as_str()))
        .bind(i64::from(i.tag_session))
        .bind(labels_to_text(&i.labels))
        .bind(&i.space)
        .bind(&i.description)
        .bind(&at)
        .bind(&at)
        .execute(&self.pool)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => Err(name_taken(&i.name)),
            Err(e) => Err(e.into()),
            Ok(_) => self.integration(i.id.as_str()).await,
        }
    }

    /// The integration serving a stack's phase, if any, in one query: it is
    /// on the path of every credential vend.
    pub async fn integration_for(
        &self,
        stack_id: &str,
        phase: Phase,
    ) -> ApiResult<Option<Integration>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM stack_phases JOIN integrations ON integrations.id = stack_phases.integration_id \
             WHERE stack_phases.stack_id = $1 AND stack_phases.phase = $2"
        ))
        .bind(stack_id)
        .bind(phase.as_str())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    pub async fn integration(&self, id: &str) -> ApiResult<Integration> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM integrations WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| ApiError::not_found("integration", id))?;
        from_row(&row)
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

    pub async fn integrations(&self) -> ApiResult<Vec<Integration>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM integrations ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn replace_integration(&self, i: &Integration) -> ApiResult<Integration> {
        let result = sqlx::query(
            "UPDATE integrations SET name = $1, role_arn = $2, region = $3, duration_seconds = $4, \
             generate_credentials_in_worker = $5, external_id = $6, tag_session = $7, labels = $8, \
             space = $9, description = $10, updated_at = $11 WHERE id = $12",
        )
        .bind(&i.name)
        .bind(i.role_arn.as_str())
        .bind(i.region.as_str())
        .bind(i.duration_seconds)
        .bind(i64::from(i.generate_credentials_in_worker))
        .bind(i.external_id.as_ref().map(|e| e.as_str()))
        .bind(i64::from(i.tag_session))
        .bind(labels_to_text(&i.labels))
        .bind(&i.space)
        .bind(&i.description)
        .bind(now())
        .bind(i.id.as_str())
        .execute(&self.pool)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => Err(name_taken(&i.name)),
            Err(e) => Err(e.into()),
            Ok(done) if done.rows_affected() == 0 => {
                Err(ApiError::not_found("integration", i.id.as_str()))
            }
            Ok(_) => self.integration(i.id.as_str()).await,
        }
    }

    /// Records a verification outcome (never a secret: the report holds ARNs,
    /// step names, timings and AWS error codes).
    pub async fn record_verification(
        &self,
        id: &str,
        at: &str,
        report: &crate::api::VerifyReport,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE integrations SET last_verified_at = $1, last_verification = $2 WHERE id = $3",
        )
        .bind(at)
        .bind(serde_json::to_string(report).expect("report serializes"))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_integration(&self, id: &str) -> ApiResult<()> {
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
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("integration", id));
        }
        tx.commit().await?;
        Ok(())
    }
}
