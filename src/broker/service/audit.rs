//! Reading the audit trail, newest first, filtered.

use super::super::error::ApiResult;
use super::super::state::AppState;
use super::page;
use crate::wire::{AuditEvent, AuditFilter, List};

/// Events matching `filter`, newest first, a page at a time.
pub async fn list(state: &AppState, filter: &AuditFilter) -> ApiResult<List<AuditEvent>> {
    let page = page::page(filter.limit, filter.cursor.as_deref(), 2)?;
    let items = state.store.audit(filter, &page).await?;
    Ok(page::list(items, &page, |e| {
        vec![e.at.clone(), e.id.clone()]
    }))
}
