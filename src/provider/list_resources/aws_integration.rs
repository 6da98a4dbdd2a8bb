//! `list "deputy_aws_integration"`: integrations, filtered by space and
//! labels as the broker's API filters them.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::resources::integration_state;
use super::super::validate;
use super::super::values::{labels, string};
use crate::model::SpaceId;
use tfplugin::diag::Diagnostics;
use tfplugin::list_resource::{ListResource, Listed};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationList;

#[async_trait]
impl ListResource<BrokerConnection> for AwsIntegrationList {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Finds AWS integrations, for adopting them with `terraform query`.",
            vec![
                Attribute::optional("space", Type::String, "Only integrations in this space."),
                Attribute::optional(
                    "labels",
                    Type::map(Type::String),
                    "Only integrations carrying every one of these labels.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<SpaceId>(config, "space", "Invalid space", &mut diags);
        validate::labels(config, "labels", &mut diags);
        diags
    }

    async fn list(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        limit: usize,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let found = broker
            .client()?
            .integrations(
                string(config, "space").as_deref(),
                &labels(config, "labels"),
            )
            .await?;
        Ok(found
            .into_iter()
            .take(limit)
            .map(|i| Listed {
                display_name: format!("{} ({})", i.name, i.role_arn),
                state: integration_state(i),
            })
            .collect())
    }
}
