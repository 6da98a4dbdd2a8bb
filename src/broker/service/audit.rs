//! Reading the audit trail, newest first, filtered.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::{access, page};
use crate::model::timestamp;
use crate::wire::{AuditEvent, AuditFilter, List};

/// Events matching `filter`, newest first, a page at a time.
/// `since` is any RFC 3339 instant; it is compared in the stored form
/// (UTC, fixed width), so `2026-12-03T15:05:00+01:00` works, and words
/// such as `yesterday` are refused rather than matching nothing.
/// A key reads the events of its subtree's spaces (see
/// `AuditEvent::space_id`); a key of the root reads them all.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: &AuditFilter,
) -> ApiResult<List<AuditEvent>> {
    let access = access::of(state, caller).await?;
    let page = page::page(filter.limit, filter.cursor.as_deref(), 2)?.in_spaces(access.subtree());
    let since = filter
        .since
        .as_deref()
        .map(|text| {
            timestamp::parse(text)
                .map(timestamp::format)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "since",
                        format!(
                            "{text:?} is not a time: write an RFC 3339 instant, for example \
                         2026-12-03T14:05:00Z"
                        ),
                    )
                })
        })
        .transpose()?;
    let filter = AuditFilter {
        since,
        ..filter.clone()
    };
    let items = state.store.audit(&filter, &page).await?;
    Ok(page::list(items, &page, |e| {
        vec![e.at.clone(), e.id.clone()]
    }))
}
