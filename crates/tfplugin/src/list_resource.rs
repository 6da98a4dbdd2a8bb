//! List resources (Terraform 1.14 `terraform query`): find existing objects
//! of a managed resource type, for adopting them into configuration. A list
//! resource has the type name of the managed resource it finds; its schema
//! is what a `list` block's `config {}` accepts. Each object found is its
//! full state: the server derives the identity Terraform needs from the
//! managed resource's, and sends the state when asked.

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// One object a list found.
pub struct Listed {
    /// What `terraform query` prints for it.
    pub display_name: String,
    /// Its state, as the managed resource would read it.
    pub state: Value,
}

#[async_trait]
pub trait ListResource<D>: Send + Sync + 'static {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;
    /// The `config {}` block: filters.
    fn schema(&self) -> Schema;

    /// Checks the filters beyond their types; skip unknown values.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// The objects matching `config`, at most `limit`.
    async fn list(
        &self,
        data: &D,
        config: &Value,
        limit: usize,
    ) -> Result<Vec<Listed>, Diagnostics>;
}
