//! Ephemeral resources (Terraform ≥ 1.10): values that exist only while a
//! Terraform command runs, such as short-lived credentials. Terraform never
//! writes their results to plan or state files.

use std::time::SystemTime;

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// What `open` hands back.
pub struct Opened {
    /// The result object: configuration plus computed attributes.
    pub result: Value,
    /// When Terraform should call `renew` (if the value is still in use).
    pub renew_at: Option<SystemTime>,
    /// Opaque state Terraform passes back to `renew` and `close`. It is kept
    /// in Terraform's memory only, never on disk.
    pub private: Vec<u8>,
}

#[async_trait]
pub trait EphemeralResource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks configuration values beyond their types; skip unknown values.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn open(&self, data: &D, config: &Value) -> Result<Opened, Diagnostics>;

    /// Extends the value's life; returns the next renewal time and private
    /// state. The default does nothing and asks for no further renewal.
    async fn renew(
        &self,
        _data: &D,
        private: &[u8],
    ) -> Result<(Option<SystemTime>, Vec<u8>), Diagnostics> {
        Ok((None, private.to_vec()))
    }

    /// Releases what `open` acquired. The default has nothing to release.
    async fn close(&self, _data: &D, _private: &[u8]) -> Result<(), Diagnostics> {
        Ok(())
    }
}
