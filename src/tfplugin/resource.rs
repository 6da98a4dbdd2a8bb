//! Managed resources: the CRUD surface a resource type implements.
//!
//! Planning is mostly generic (see [`super::plan`]): the schema says which
//! attributes force replacement and which computed values stay stable, and
//! a resource only adds what depends on its own rules through
//! [`Resource::plan`].

use async_trait::async_trait;

use super::diag::{Diagnostic, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// `D` is the provider's configured data (for deputy, the broker client).
#[async_trait]
pub trait Resource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks configuration values beyond their types (formats, ranges,
    /// combinations). Values may be unknown at this point: skip those.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Refines the generic plan: fill computed values that can already be
    /// known from configuration. `prior` is null on create.
    fn plan(&self, planned: Value, _prior: &Value) -> Result<Value, Diagnostics> {
        Ok(planned)
    }

    async fn create(&self, data: &D, planned: &Value) -> Result<Value, Diagnostics>;

    /// `None` when the object no longer exists, so Terraform plans to create
    /// it again.
    async fn read(&self, data: &D, current: &Value) -> Result<Option<Value>, Diagnostics>;

    async fn update(&self, data: &D, prior: &Value, planned: &Value) -> Result<Value, Diagnostics>;

    async fn delete(&self, data: &D, prior: &Value) -> Result<(), Diagnostics>;

    /// The state for `terraform import`/`import {}` with the documented id;
    /// Terraform reads it right after.
    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics>;

    /// Converts stored state written with schema `version` into JSON that
    /// matches the current schema. The default accepts only the current
    /// version; resources that bump their version add the steps.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if version == current {
            Ok(state)
        } else {
            Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "The state of this {} was written with schema version {version}, and this \
                     provider release knows version {current}. Use a provider release that \
                     matches the state, or remove the object from state and import it again.",
                    self.type_name()
                ),
            )
            .into())
        }
    }
}
