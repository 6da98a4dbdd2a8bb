//! Spaces: create, list, read, replace and delete. Who may shape the tree
//! is `model::space`'s rule: an admin of the parent creates, deletes and
//! sets `inherit`; an admin of the space renames and relabels it.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::access::{self, refusal};
use super::idempotency::{Created, Request, create_once};
use super::{audited, parse};
use crate::model::names::check_labels;
use crate::model::space::{Need, Refusal};
use crate::model::{Name, SpaceId};
use crate::wire::{Space, SpaceInput};

/// Validates input into a full space record; `id` comes from the body on
/// create and from the path on replace.
fn validate(id: &str, input: SpaceInput) -> ApiResult<Space> {
    let id: SpaceId = parse("id", id)?;
    let name: Name = match &input.name {
        Some(n) => parse("name", n)?,
        None => parse("name", id.as_str())?,
    };
    let parent_id: Option<SpaceId> = match (&input.parent_id, id.as_str()) {
        (_, crate::model::space::ROOT) => None,
        (Some(p), _) => Some(parse("parent_id", p)?),
        (None, _) => Some(SpaceId::root()),
    };
    check_labels(input.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid("labels", e.0))?;
    Ok(Space {
        id,
        name: name.to_string(),
        parent_id,
        inherit: input.inherit,
        labels: input.labels,
        description: input.description,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

/// Refuses unless the caller administers `space`'s parent, which decides
/// `what` of it; a key of the space itself sees it, so it is told why.
fn shaped_by_parent(access: &access::Access, space: &Space, what: &str) -> ApiResult<()> {
    match access
        .holder
        .may_shape(&access.tree, space.parent_id.as_ref())
    {
        Ok(()) => Ok(()),
        Err(Refusal::TooLow(why)) => Err(ApiError::Forbidden(why)),
        Err(Refusal::OutOfSight) => Err(ApiError::Forbidden(format!(
            "{what} is for the admins of space {:?}, the parent of space {:?}; API key {} acts \
             in space {:?}",
            space.parent_id.as_ref().map_or("", |p| p.as_str()),
            space.id.as_str(),
            access.holder.key_id,
            access.holder.space.as_str()
        ))),
    }
}

/// Creates a space; with `once`, a retry of an earlier create gets its
/// space back.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: SpaceInput,
    once: Option<&Request>,
) -> ApiResult<Created<Space>> {
    let target = format!("space/{}", input.id);
    let create = || {
        audited(
            state,
            caller,
            crate::model::audit::SPACE_CREATE,
            &target,
            |audit| async move {
                let access = access::of(state, caller).await?;
                let space = validate(&input.id.clone(), input)?;
                let Some(parent) = &space.parent_id else {
                    return Err(ApiError::conflict(
                        crate::wire::ProblemCode::SpaceExists,
                        "the root space exists in every broker",
                    ));
                };
                // A parent that does not exist and one out of sight answer alike.
                refusal(
                access.holder.may_shape(&access.tree, Some(parent)),
                "space",
                parent.as_str(),
            )
            .map_err(|e| match e {
                ApiError::NotFound { .. } => ApiError::invalid(
                    "parent_id",
                    format!(
                        "space {:?} does not exist or is outside space {:?}, where API key {} acts",
                        parent.as_str(),
                        access.holder.space.as_str(),
                        access.holder.key_id
                    ),
                ),
                other => other,
            })?;
                let record = once.map(|r| r.once(&audit.target, None));
                state
                    .store
                    .create_space(&space, &audit, record.as_ref())
                    .await
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        read(state, caller, earlier.id("space")?).await
    })
    .await
}

/// The spaces of the caller's subtree, by id.
pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<Space>> {
    let access = access::of(state, caller).await?;
    let spaces = state.store.spaces().await?;
    Ok(spaces
        .into_iter()
        .filter(|s| access.tree.within(&s.id, &access.holder.space))
        .collect())
}

pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Space> {
    let access = access::of(state, caller).await?;
    access.require(Need::Read, id, "space", id)?;
    state.store.space(id).await
}

pub async fn replace(
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: SpaceInput,
) -> ApiResult<Space> {
    let target = format!("space/{id}");
    audited(
        state,
        caller,
        crate::model::audit::SPACE_UPDATE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            if input.id != id {
                return Err(ApiError::invalid(
                    "id",
                    "a space's id cannot change (keys, stacks and integrations name it): create a new space instead",
                ));
            }
            access.require(Need::Admin, id, "space", id)?;
            let current = state.store.space(id).await?;
            let mut space = validate(id, input.clone())?;
            if input.parent_id.is_none() {
                space.parent_id = current.parent_id.clone();
            }
            if space.parent_id != current.parent_id {
                return Err(ApiError::invalid(
                    "parent_id",
                    format!(
                        "a space's parent cannot change (it would move what every key in it may \
                         reach); it is {:?}",
                        current.parent_id.as_ref().map_or("", |p| p.as_str())
                    ),
                ));
            }
            if space.inherit != current.inherit {
                // What a space inherits is its parent's to give.
                shaped_by_parent(&access, &current, "whether it inherits")?;
            }
            state.store.replace_space(&space, &audit).await
        },
    )
    .await
}

pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    let target = format!("space/{id}");
    audited(
        state,
        caller,
        crate::model::audit::SPACE_DELETE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            access.require(Need::Read, id, "space", id)?;
            let current = state.store.space(id).await?;
            shaped_by_parent(&access, &current, "its deletion")?;
            state.store.delete_space(id, &audit).await
        },
    )
    .await
}
