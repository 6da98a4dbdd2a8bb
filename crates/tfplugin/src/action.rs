//! Actions (Terraform 1.14): operations a configuration invokes, by hand
//! (`terraform apply -invoke=action.TYPE.NAME`) or from a resource's
//! `lifecycle { action_trigger { ... } }`. An action changes nothing in
//! state; it reports progress while it runs and ends with diagnostics.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// Where an action sends progress lines; Terraform shows each as it comes.
#[derive(Clone)]
pub struct Progress(pub(crate) mpsc::UnboundedSender<String>);

impl Progress {
    pub fn report(&self, message: impl Into<String>) {
        // The receiver is gone only when Terraform hung up, and then no one
        // is left to tell.
        let _ = self.0.send(message.into());
    }
}

#[async_trait]
pub trait Action<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    /// The `config {}` block of an `action` block.
    fn schema(&self) -> Schema;

    /// Checks configuration beyond types; skip unknown values.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Runs the action. Warnings in `Ok` are shown beside success; `Err`
    /// fails the apply that invoked it.
    async fn invoke(
        &self,
        data: &D,
        config: &Value,
        progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics>;
}
