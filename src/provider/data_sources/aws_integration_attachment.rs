//! `data "deputy_aws_integration_attachment"`: an existing attachment.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::resources::attachment_state;
use super::super::values::string;
use tfplugin::data_source::DataSource;
use tfplugin::diag::Diagnostics;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationAttachmentDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationAttachmentDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_attachment"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "An existing attachment of an AWS integration to a stack.",
            vec![
                Attribute::required("integration_id", Type::String, "The integration's id."),
                Attribute::required("stack_id", Type::String, "The stack's id."),
                Attribute::computed("id", Type::String, "`<integration_id>/<stack_id>`."),
                Attribute::computed("read", Type::Bool, "Whether it serves the stack's plans."),
                Attribute::computed(
                    "write",
                    Type::Bool,
                    "Whether it serves the stack's applies.",
                ),
                Attribute::computed(
                    "external_ids",
                    Type::map(Type::String),
                    "External ID of each attached phase.",
                ),
            ],
        )
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let (i, s) = (
            string(config, "integration_id").unwrap_or_default(),
            string(config, "stack_id").unwrap_or_default(),
        );
        let a = broker.client()?.attachment(&i, &s).await?;
        Ok(attachment_state(a))
    }
}
