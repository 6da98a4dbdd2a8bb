//! The `deputy` Terraform provider: its configuration, and the registry of
//! its resources, data sources, ephemeral resources, list resources,
//! actions and functions (one file each). A resource's attributes are a
//! typed model (`model`), declared once.

pub mod actions;
mod config;
mod connection;
pub mod data_sources;
pub mod docs;
pub mod ephemeral;
pub mod functions;
pub mod list_resources;
mod model;
pub mod resources;
mod validate;
mod values;
mod verification;

use async_trait::async_trait;

use tfplugin::diag::Diagnostics;
use tfplugin::provider::{Provider, Registry};
use tfplugin::schema::Schema;
use tfplugin::value::Value;

pub use config::BrokerSettings;
pub use connection::BrokerConnection;

/// Source address users put in `required_providers`.
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/deputy/deputy";

pub struct DeputyProvider;

#[async_trait]
impl Provider for DeputyProvider {
    type Data = BrokerConnection;

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
        warnings: &mut Diagnostics,
    ) -> Result<BrokerConnection, Diagnostics> {
        let connection =
            BrokerSettings::from_config(config, |name| std::env::var(name).ok(), warnings)
                .and_then(BrokerConnection::new)?;
        connection.check().await?;
        Ok(connection)
    }

    fn registry(&self) -> Registry<BrokerConnection> {
        Registry::default()
            .resource(resources::SpaceResource)
            .resource(resources::StackResource)
            .resource(resources::AwsIntegrationResource)
            .resource(resources::AwsIntegrationAttachmentResource)
            .resource(resources::RunnerTrustResource)
            .data_source(data_sources::AccountDataSource)
            .data_source(data_sources::SpaceDataSource)
            .data_source(data_sources::StackDataSource)
            .data_source(data_sources::AwsIntegrationDataSource)
            .data_source(data_sources::AwsIntegrationsDataSource)
            .data_source(data_sources::AwsIntegrationAttachmentDataSource)
            .data_source(data_sources::AttachmentExternalIdDataSource)
            .data_source(data_sources::AwsIntegrationTrustPolicyDataSource)
            .data_source(data_sources::AwsIntegrationRoleTemplateDataSource)
            .data_source(data_sources::TrustPolicyDocumentDataSource)
            .data_source(data_sources::AwsIntegrationVerificationDataSource)
            .ephemeral_resource(ephemeral::AwsCredentialsEphemeralResource)
            .list_resource(list_resources::SpaceList)
            .list_resource(list_resources::StackList)
            .list_resource(list_resources::AwsIntegrationList)
            .list_resource(list_resources::AwsIntegrationAttachmentList)
            .action(actions::VerifyIntegrationAction)
            .function(functions::ExternalIdFunction)
            .function(functions::AssumeRolePolicyStatementFunction)
            .function(functions::TrustPolicyDocumentFunction)
            .function(functions::TrustPolicyLengthFunction)
    }
}
