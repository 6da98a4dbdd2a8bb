//! Data sources: read-only lookups, evaluated during plan when their
//! configuration is known.

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

#[async_trait]
pub trait DataSource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks configuration values beyond their types; skip unknown values.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// The whole object: configuration plus every computed attribute, known.
    /// `warnings` go to Terraform beside a result: what the user should
    /// know about a value that could still be built.
    async fn read(
        &self,
        data: &D,
        config: &Value,
        warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics>;
}
