//! Whole lists from the services' pages: a console page that shows all of
//! something (an integration's attachments, the stacks to attach, the
//! keys) follows the cursors a list hands out; a stack field's choices
//! take the first page.

use std::future::Future;

use crate::broker::auth::Caller;
use crate::broker::error::ApiResult;
use crate::broker::service::stacks;
use crate::broker::state::AppState;
use crate::wire::{List, PageQuery, SpacedPageQuery};

/// Calls `page` with each cursor in turn, from the first page to the last.
pub async fn every<T, F, Fut>(mut page: F) -> ApiResult<Vec<T>>
where
    F: FnMut(PageQuery) -> Fut,
    Fut: Future<Output = ApiResult<List<T>>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let list = page(PageQuery {
            limit: Some(1000),
            cursor,
        })
        .await?;
        all.extend(list.items);
        match list.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// The stack ids a stack field offers as the operator types: the first
/// thousand (one page); any other id can still be typed.
pub async fn stack_choices(state: &AppState, caller: &Caller) -> ApiResult<Vec<String>> {
    let first = stacks::list(
        state,
        caller,
        &SpacedPageQuery {
            limit: Some(1000),
            ..SpacedPageQuery::default()
        },
    )
    .await?;
    Ok(first.items.iter().map(|s| s.id.to_string()).collect())
}
