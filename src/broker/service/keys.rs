//! API keys: create (the secret is shown once), list, revoke. A key that
//! manages the registry is minted by an admin, at most at the admin's own
//! level and inside its subtree; a runner key by whoever may change its
//! stack.

use super::super::auth::{Caller, mint, new_key_id};
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::access::{self, Access, refusal};
use super::idempotency::{Created, Request, create_once};
use super::{audited, page, writable_stack};
use crate::model::space::Need;
use crate::model::timestamp::{self, now};
use crate::wire::{ApiKey, ApiKeyInput, CreatedApiKey, List, SpacedPageQuery};

/// Ten years: a key meant to outlive that should have no expiry at all.
const MAX_LIFETIME_SECONDS: i64 = 315_360_000;

pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: ApiKeyInput,
    once: Option<&Request>,
) -> ApiResult<Created<CreatedApiKey>> {
    let id = new_key_id();
    let target = format!("key/{id}");
    let create = || {
        audited(
            state,
            caller,
            crate::model::audit::KEY_CREATE,
            &target,
            |audit| async move {
                let access = access::of(state, caller).await?;
                let (space_id, stack_id, phases) = match input.role.level() {
                    Some(level) => {
                        if input.stack_id.is_some() || input.phases.is_some() {
                            return Err(ApiError::invalid(
                                "stack_id",
                                format!(
                                    "{} keys act for a space, not a stack: leave out stack_id and phases, or use role \"runner\"",
                                    input.role.as_str()
                                ),
                            ));
                        }
                        let space = access.space_for_new(
                            Need::Admin,
                            input.space_id.as_deref(),
                            "space_id",
                        )?;
                        refusal(
                            access.holder.may_mint(&access.tree, level, &space),
                            "space",
                            space.as_str(),
                        )?;
                        (Some(space), None, Vec::new())
                    }
                    None => {
                        if input.space_id.is_some() {
                            return Err(ApiError::invalid(
                                "space_id",
                                "runner keys act for their stack, in the stack's space: leave out space_id",
                            ));
                        }
                        let named = input.stack_id.as_deref().ok_or_else(|| {
                            ApiError::invalid(
                                "stack_id",
                                "runner keys act for one stack: set stack_id",
                            )
                        })?;
                        let stack_id = writable_stack(state, &access, "stack_id", named).await?;
                        // No default: a key that may write must be asked for.
                        let phases = input.phases.clone().unwrap_or_default();
                        if phases.is_empty() {
                            return Err(ApiError::invalid(
                                "phases",
                                "choose the phases this runner key may get credentials for: [\"read\"] for plan jobs, \
                         [\"write\"] for apply jobs, or both for a job that does both",
                            ));
                        }
                        (None, Some(stack_id), phases)
                    }
                };
                let expires_at = match input.expires_in_seconds {
                    None => None,
                    Some(s) if (1..=MAX_LIFETIME_SECONDS).contains(&s) => Some(timestamp::format(
                        time::OffsetDateTime::now_utc() + time::Duration::seconds(s),
                    )),
                    Some(s) => {
                        return Err(ApiError::invalid(
                            "expires_in_seconds",
                            format!(
                                "{s} is not a lifetime: use 1 to {MAX_LIFETIME_SECONDS} seconds (ten years), or leave it out for no expiry"
                            ),
                        ));
                    }
                };
                let minted = mint(
                    id.clone(),
                    input.role,
                    space_id,
                    stack_id,
                    phases,
                    input.description.clone(),
                    expires_at,
                );
                // A retry gets the token back: it is kept sealed under the
                // idempotency key (see `idempotency`).
                let record = once.map(|r| r.once(&audit.target, Some(&minted.token)));
                state
                    .store
                    .insert_key(&minted.stored, &audit, record.as_ref())
                    .await?;
                Ok(CreatedApiKey {
                    key: minted.stored.key,
                    token: minted.token,
                })
            },
        )
    };
    create_once(state, once, create, |earlier| async move {
        let id = earlier.id("key")?;
        let stored = state
            .store
            .key(id)
            .await?
            .ok_or_else(|| ApiError::not_found("key", id))?;
        Ok(CreatedApiKey {
            key: stored.key,
            token: earlier.secret.clone().ok_or_else(|| {
                ApiError::Internal("a remembered key creation kept no token".into())
            })?,
        })
    })
    .await
}

/// The keys of the caller's subtree (never a secret), oldest first, a page
/// at a time.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: &SpacedPageQuery,
) -> ApiResult<List<ApiKey>> {
    let access = access::of(state, caller).await?;
    let page = page::page(q.limit, q.cursor.as_deref(), 2)?
        .in_spaces(access.below(q.space.as_deref(), "space")?);
    let items = state.store.keys(&page).await?;
    Ok(page::list(items, &page, |k| {
        vec![k.created_at.clone(), k.id.clone()]
    }))
}

/// One key (never a secret).
pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ApiKey> {
    let access = access::of(state, caller).await?;
    held(state, &access, Need::Read, id).await
}

/// The key `id`, if the caller may do what `need` says to it: a key of
/// the registry by its space (changing one takes an admin), a runner key
/// by its stack's (changing one takes whoever may change the stack).
async fn held(state: &AppState, access: &Access, need: Need, id: &str) -> ApiResult<ApiKey> {
    let key = state
        .store
        .key(id)
        .await?
        .map(|stored| stored.key)
        .ok_or_else(|| ApiError::not_found("key", id))?;
    let (space, need) = match (&key.space_id, &key.stack_id) {
        (Some(space), _) => (space.to_string(), need),
        (None, Some(stack)) => {
            let need = if need == Need::Admin {
                Need::Write
            } else {
                need
            };
            (state.store.stack(stack.as_str()).await?.space, need)
        }
        (None, None) => return Err(ApiError::not_found("key", id)),
    };
    access.require(need, &space, "key", id)?;
    Ok(key)
}

pub async fn revoke(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ApiKey> {
    let target = format!("key/{id}");
    audited(
        state,
        caller,
        crate::model::audit::KEY_REVOKE,
        &target,
        |audit| async move {
            let access = access::of(state, caller).await?;
            held(state, &access, Need::Admin, id).await?;
            state.store.revoke_key(id, &now(), &audit).await
        },
    )
    .await
}
