//! Stacks: create, list, read, replace and delete.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::idempotency::{Created, Request, create_once};
use super::{access, audited, page, parse};
use crate::model::names::check_labels;
use crate::model::space::Need;
use crate::model::{Name, SpaceId, StackId};
use crate::wire::{List, SpacedPageQuery, Stack, StackInput};

/// Validates input into a full stack record through `model`, the rules the
/// provider applies at plan. `id` comes from the body on create and from
/// the path on replace; `space` is the one the caller may use.
fn validate(id: &str, input: StackInput, space: SpaceId) -> ApiResult<Stack> {
    let id: StackId = parse("id", id)?;
    let name: Name = match &input.name {
        Some(n) => parse("name", n)?,
        None => parse("name", id.as_str())?,
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
                let access = access::of(state, caller).await?;
                let space = access.space_for_new(Need::Write, input.space.as_deref(), "space")?;
                let stack = validate(&id, input, space)?;
                let record = once.map(|r| r.once(&audit.target, None));
                state
                    .store
                    .create_stack(&stack, &audit, record.as_ref())
                    .await
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        read(state, caller, earlier.id("stack")?).await
    })
    .await
}

/// Stacks of the caller's subtree by id, a page at a time.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: &SpacedPageQuery,
) -> ApiResult<List<Stack>> {
    let access = access::of(state, caller).await?;
    let page = page::page(q.limit, q.cursor.as_deref(), 1)?
        .in_spaces(access.below(q.space.as_deref(), "space")?);
    let items = state.store.stacks(&page).await?;
    Ok(page::list(items, &page, |s| vec![s.id.to_string()]))
}

pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Stack> {
    let access = access::of(state, caller).await?;
    access.stack(state, Need::Read, id).await
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
        let access = access::of(state, caller).await?;
        let current = access.stack(state, Need::Write, id).await?;
        // Where it goes, the caller must be able to write too.
        let space = match input.space.as_deref() {
            Some(s) if s != current.space => access.space_for_new(Need::Write, Some(s), "space")?,
            _ => parse("space", &current.space)?,
        };
        let stack = validate(id, input, space)?;
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
        |audit| async move {
            let access = access::of(state, caller).await?;
            access.stack(state, Need::Write, id).await?;
            state.store.delete_stack(id, &audit).await
        },
    )
    .await
}
