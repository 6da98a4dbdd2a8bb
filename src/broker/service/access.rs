//! Who may do what where: the caller's key read against the space tree
//! (`model::space`), once per operation. An object outside the key's
//! subtree is answered as not found, so a team cannot learn what another
//! holds; one it sees but may not change is a 403 saying why.

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::parse;
use crate::model::SpaceId;
use crate::model::space::{Holder, Need, Refusal, Tree};
use crate::wire::{Integration, Stack};

/// The caller's standing and the tree it is read against.
pub struct Access {
    pub holder: Holder,
    pub tree: Tree,
}

/// The access of `caller`, which must hold a key that manages the
/// registry (runner keys are refused before any service runs).
pub async fn of(state: &AppState, caller: &Caller) -> ApiResult<Access> {
    let key = &caller.key;
    let (Some(level), Some(space)) = (key.role.level(), key.space_id.clone()) else {
        return Err(ApiError::Forbidden(format!(
            "API key {} is a runner key; this needs an admin, write or read key",
            key.id
        )));
    };
    Ok(Access {
        holder: Holder {
            key_id: key.id.clone(),
            level,
            space,
        },
        tree: state.store.space_tree().await?,
    })
}

impl Access {
    /// Refuses unless the key may do what `need` says to the object `what`
    /// `id`, which is in `space`.
    pub fn require(&self, need: Need, space: &str, what: &'static str, id: &str) -> ApiResult<()> {
        // A space id that is none (a typed path) holds nothing.
        let Ok(space) = space.parse::<SpaceId>() else {
            return Err(ApiError::not_found(what, id));
        };
        refusal(self.holder.may(&self.tree, need, &space), what, id)
    }

    /// Refuses unless the key sees the integration `id` in `space`: in its
    /// subtree or in its space's reach.
    pub fn sees_integration(&self, space: &str, id: &str) -> ApiResult<()> {
        let seen = space
            .parse()
            .is_ok_and(|s| self.holder.sees_integration(&self.tree, &s));
        if seen {
            Ok(())
        } else {
            Err(ApiError::not_found("integration", id))
        }
    }

    /// Whether the key holds what is in `space` (its subtree), rather than
    /// only seeing it (an integration of a space above, in reach).
    pub fn holds(&self, space: &str) -> bool {
        space
            .parse()
            .is_ok_and(|s| self.tree.within(&s, &self.holder.space))
    }

    /// An integration as this key may see it: one seen only by reach has
    /// no last verification (its steps name every attached stack, other
    /// teams' among them); its state says whether it is verified.
    pub fn shown(&self, mut integration: Integration) -> Integration {
        if !self.holds(&integration.space) {
            integration.last_verification = None;
        }
        integration
    }

    /// The space a new object goes to: the one named in `field`, or the
    /// key's own; the key must have `need` there.
    pub fn space_for_new(
        &self,
        need: Need,
        given: Option<&str>,
        field: &str,
    ) -> ApiResult<SpaceId> {
        let space: SpaceId = match given {
            Some(s) => parse(field, s)?,
            None => self.holder.space.clone(),
        };
        match self.holder.may(&self.tree, need, &space) {
            Ok(()) => Ok(space),
            // A space outside the subtree is one the key cannot name.
            Err(Refusal::OutOfSight) => Err(ApiError::invalid(
                field,
                format!(
                    "space {:?} does not exist or is outside space {:?}, where API key {} acts",
                    space.as_str(),
                    self.holder.space.as_str(),
                    self.holder.key_id
                ),
            )),
            Err(Refusal::TooLow(why)) => Err(ApiError::Forbidden(why)),
        }
    }

    /// The spaces a list shows: the key's subtree; `None` (all) for a key
    /// of the root.
    pub fn subtree(&self) -> Option<Vec<String>> {
        (self.holder.space.as_str() != crate::model::space::ROOT).then(|| {
            self.tree
                .below(&self.holder.space)
                .into_iter()
                .map(|s| s.to_string())
                .collect()
        })
    }

    /// The spaces a list shows when it asks for `given` and below (named
    /// in `field`): that subtree, which must be in the key's sight; the
    /// key's subtree when `given` is absent.
    pub fn below(&self, given: Option<&str>, field: &str) -> ApiResult<Option<Vec<String>>> {
        let Some(given) = given else {
            return Ok(self.subtree());
        };
        let space: SpaceId = parse(field, given)?;
        if self.holder.may(&self.tree, Need::Read, &space).is_err() {
            return Err(ApiError::invalid(
                field,
                format!(
                    "space {given:?} does not exist or is outside space {:?}, where API key {} acts",
                    self.holder.space.as_str(),
                    self.holder.key_id
                ),
            ));
        }
        Ok(Some(
            self.tree
                .below(&space)
                .into_iter()
                .map(|s| s.to_string())
                .collect(),
        ))
    }

    /// The spaces whose integrations a list shows: the subtree and the
    /// key's space's reach.
    pub fn integration_spaces(&self) -> Option<Vec<String>> {
        let mut spaces = self.subtree()?;
        spaces.extend(
            self.tree
                .reach(&self.holder.space)
                .into_iter()
                .map(|s| s.to_string()),
        );
        spaces.sort();
        spaces.dedup();
        Some(spaces)
    }
}

impl Access {
    /// The stack `id`, if the caller may do what `need` says to it.
    pub async fn stack(&self, state: &AppState, need: Need, id: &str) -> ApiResult<Stack> {
        let stack = state.store.stack(id).await?;
        self.require(need, &stack.space, "stack", id)?;
        Ok(stack)
    }

    /// The integration `id`, if the caller may do what `need` says to it
    /// (in its subtree, not only in reach).
    pub async fn integration(
        &self,
        state: &AppState,
        need: Need,
        id: &str,
    ) -> ApiResult<Integration> {
        let integration = state.store.integration(id).await?;
        match self.require(need, &integration.space, "integration", id) {
            // One its stacks may use, in a space above: seen, not held.
            Err(ApiError::NotFound { .. })
                if self.sees_integration(&integration.space, id).is_ok() =>
            {
                Err(ApiError::Forbidden(format!(
                    "integration {:?} is in space {:?}, above space {:?} where API key {} acts: \
                     its stacks may use it, and only that space's keys manage it",
                    integration.name,
                    integration.space,
                    self.holder.space.as_str(),
                    self.holder.key_id
                )))
            }
            other => other.map(|()| integration),
        }
    }

    /// The integration `id`, if the caller sees it (in its subtree or its
    /// space's reach).
    pub async fn seen_integration(&self, state: &AppState, id: &str) -> ApiResult<Integration> {
        let integration = state.store.integration(id).await?;
        self.sees_integration(&integration.space, id)?;
        Ok(self.shown(integration))
    }
}

/// The answer for a refusal of `what` `id`.
pub fn refusal(r: Result<(), Refusal>, what: &'static str, id: &str) -> ApiResult<()> {
    match r {
        Ok(()) => Ok(()),
        Err(Refusal::OutOfSight) => Err(ApiError::not_found(what, id)),
        Err(Refusal::TooLow(why)) => Err(ApiError::Forbidden(why)),
    }
}
