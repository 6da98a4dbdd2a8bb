//! Stacks: create, list, read, replace and delete.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::idempotency::{Created, Request, create_once};
use super::{audited, page, parse};
use crate::model::names::check_labels;
use crate::model::{Name, Space, StackId};
use crate::wire::{List, PageQuery, Stack, StackInput};

/// Validates input into a full stack record through `model`, the rules the
/// provider applies at plan. `id` comes from the body on create and from
/// the path on replace.
fn validate(id: &str, input: StackInput) -> ApiResult<Stack> {
    let id: StackId = parse("id", id)?;
    let name: Name = match &input.name {
        Some(n) => parse("name", n)?,
        None => parse("name", id.as_str())?,
    };
    let space: Space = match &input.space {
        Some(s) => parse("space", s)?,
        None => Space::default(),
    };
    check_labels(input.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid("labels", e.0))?;
    Ok(Stack {
        id,
        name: name.to_string(),
        space: space.to_string(),
        labels: input.labels,
        description: input.description,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

/// Creates a stack; with `once`, a retry of an earlier create gets its
/// stack back.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: StackInput,
    once: Option<&Request>,
) -> ApiResult<Created<Stack>> {
    let id = input.id.clone();
    let target = format!("stack/{id}");
    let create = || {
        audited(
            state,
            caller,
            crate::model::audit::STACK_CREATE,
            &target,
            |audit| async move {
                let stack = validate(&id, input)?;
                let record = once.map(|r| r.once(&audit.target, None));
                state
                    .store
                    .create_stack(&stack, &audit, record.as_ref())
                    .await
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        read(state, earlier.id("stack")?).await
    })
    .await
}

/// Stacks by id, a page at a time.
pub async fn list(state: &AppState, q: &PageQuery) -> ApiResult<List<Stack>> {
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?;
    let items = state.store.stacks(&page).await?;
    Ok(page::list(items, &page, |s| vec![s.id.to_string()]))
}

pub async fn read(state: &AppState, id: &str) -> ApiResult<Stack> {
    state.store.stack(id).await
}

pub async fn replace(
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: StackInput,
) -> ApiResult<Stack> {
    let target = format!("stack/{id}");
    audited(state, caller, crate::model::audit::STACK_UPDATE, &target, |audit| async move {
        if input.id != id {
            return Err(ApiError::invalid(
                "id",
                "a stack's id cannot change (it is part of its External IDs): create a new stack instead",
            ));
        }
        let stack = validate(id, input)?;
        state.store.replace_stack(&stack, &audit).await
    })
    .await
}

pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let target = format!("stack/{id}");
    audited(
        state,
        caller,
        crate::model::audit::STACK_DELETE,
        &target,
        |audit| async move { state.store.delete_stack(id, &audit).await },
    )
    .await
}
