//! Managed resources: the CRUD surface a resource type implements.
//!
//! Planning is mostly generic (see [`super::plan`]): the schema says which
//! attributes force replacement and which computed values stay stable, and
//! a resource only adds what depends on its own rules through
//! [`Resource::plan`].

use async_trait::async_trait;

use super::diag::{Diagnostic, Diagnostics};
use super::identity::Identity;
use super::schema::Schema;
use super::value::Value;

/// `D` is the provider's configured data (for deputy, the broker client).
#[async_trait]
pub trait Resource<D: Sync>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// The attributes that name an object, for Terraform 1.12 and later;
    /// `None` for a resource without an identity.
    fn identity(&self) -> Option<Identity> {
        None
    }

    /// Checks configuration values beyond their types (formats, ranges,
    /// combinations). Values may be unknown at this point: skip those.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Refines the generic plan: fill computed values that can already be
    /// known from configuration (and, with `data`, from what the provider
    /// can look up). `prior` is null on create; `data` is `None` when
    /// Terraform plans before configuring the provider.
    async fn plan(
        &self,
        _data: Option<&D>,
        planned: Value,
        _prior: &Value,
        _config: &Value,
    ) -> Result<Value, Diagnostics> {
        Ok(planned)
    }

    async fn create(&self, data: &D, planned: &Value) -> Result<Value, Diagnostics>;

    /// `None` when the object no longer exists, so Terraform plans to create
    /// it again.
    async fn read(&self, data: &D, current: &Value) -> Result<Option<Value>, Diagnostics>;

    async fn update(&self, data: &D, prior: &Value, planned: &Value) -> Result<Value, Diagnostics>;

    async fn delete(&self, data: &D, prior: &Value) -> Result<(), Diagnostics>;

    /// The state for `terraform import`/`import {}` with the documented id
    /// (or the id an `import { identity = ... }` stands for); Terraform
    /// reads it right after.
    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics>;

    /// Brings stored state written with schema `version` to the current
    /// schema. `state` is already decoded against the current schema, so
    /// attributes since removed are gone and attributes since added are
    /// null. The default fills each null that has a default: an attribute
    /// that was optional without one reads back as its default now. A
    /// version newer than this release is refused. Resources whose changes
    /// need more (a rename, a new meaning) add the steps.
    fn upgrade_state(&self, version: i64, state: Value) -> Result<Value, Diagnostics> {
        let schema = self.schema();
        if version > schema.version {
            return Err(Diagnostic::error(
                "State from a newer provider",
                format!(
                    "The state of this {} was written with schema version {version}, by a newer \
                     release of the deputy provider; this release knows version {}. Use that \
                     release or a newer one.",
                    self.type_name(),
                    schema.version
                ),
            )
            .into());
        }
        Ok(if version < schema.version {
            schema.fill_defaults(state)
        } else {
            state
        })
    }
}
