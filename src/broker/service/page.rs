//! Paging of list answers: `limit` (bounded, so one request cannot hold a
//! connection and build a huge answer) and an opaque `cursor` that holds
//! the sort key of the last item served, so the next page continues after
//! it (see `store::Page`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::super::error::{ApiError, ApiResult};
use super::super::store::Page;
use crate::wire::List;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// The page a query asks for; `key_len` is the number of sort columns of
/// the list, so a cursor from another list is refused.
pub fn page(limit: Option<i64>, cursor: Option<&str>, key_len: usize) -> ApiResult<Page> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit is {limit}: ask for 1 to {MAX_LIMIT} items (default {DEFAULT_LIMIT})"),
        ));
    }
    let after = cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|json| serde_json::from_slice::<Vec<String>>(&json).ok())
                .filter(|key| key.len() == key_len)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "cursor",
                        "the cursor is not one this list gave out: pass the next_cursor of the \
                         previous page unchanged, or leave it out to start over",
                    )
                })
        })
        .transpose()?;
    Ok(Page {
        after,
        limit,
        spaces: None,
    })
}

/// The answer for `items` fetched with `page` (one more than the page when
/// another follows), with the cursor made from the last item's `key`.
pub fn list<T>(mut items: Vec<T>, page: &Page, key: impl Fn(&T) -> Vec<String>) -> List<T> {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| {
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&key(last)).expect("strings serialize"))
        })
    } else {
        None
    };
    List { items, next_cursor }
}
