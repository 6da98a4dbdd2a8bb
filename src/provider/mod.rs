//! The `deputy` Terraform provider: its configuration, and the registry of
//! its resources, data sources and functions (one file each).

mod config;
pub mod data_sources;
pub mod docs;
pub mod functions;
mod validate;

use async_trait::async_trait;

use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::provider::{Provider, Registry};
use crate::tfplugin::schema::Schema;
use crate::tfplugin::value::Value;

pub use config::BrokerSettings;

/// Source address users put in `required_providers`.
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/deputy/deputy";

pub struct DeputyProvider;

#[async_trait]
impl Provider for DeputyProvider {
    type Data = BrokerSettings;

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(
        &self,
        config: &Value,
        _terraform_version: &str,
    ) -> Result<BrokerSettings, Diagnostics> {
        BrokerSettings::from_config(config, |name| std::env::var(name).ok())
    }

    fn registry(&self) -> Registry<BrokerSettings> {
        Registry::default()
            .data_source(data_sources::TrustPolicyDocumentDataSource)
            .function(functions::ExternalIdFunction)
            .function(functions::AssumeRolePolicyStatementFunction)
            .function(functions::TrustPolicyDocumentFunction)
    }
}
