//! `list "deputy_aws_integration_attachment"`: the attachments of one
//! integration or of one stack.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::resources::attachment_state;
use super::super::values::string;
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::list_resource::{ListResource, Listed};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationAttachmentList;

#[async_trait]
impl ListResource<BrokerConnection> for AwsIntegrationAttachmentList {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_attachment"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Finds the attachments of an integration or of a stack, for adopting them with \
             `terraform query`. Set exactly one of `integration_id` and `stack_id`.",
            vec![
                Attribute::optional(
                    "integration_id",
                    Type::String,
                    "The attachments of this integration.",
                ),
                Attribute::optional("stack_id", Type::String, "The attachments of this stack."),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let (i, s) = (config.get("integration_id"), config.get("stack_id"));
        if i.is_unknown() || s.is_unknown() || i.is_null() != s.is_null() {
            return Diagnostics::new();
        }
        Diagnostic::error(
            "Set exactly one of integration_id and stack_id",
            "List the attachments either of one integration (`integration_id`) or of one stack \
             (`stack_id`).",
        )
        .at(AttributePath::attr("integration_id"))
        .into()
    }

    async fn list(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        limit: usize,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let client = broker.client()?;
        let found = match (string(config, "integration_id"), string(config, "stack_id")) {
            (Some(i), None) => client.attachments_of_integration(&i).await,
            (None, Some(s)) => client.attachments_of_stack(&s).await,
            _ => return Err(self.validate(config)),
        }?;
        Ok(found
            .into_iter()
            .take(limit)
            .map(|a| {
                let phases = [("read", a.read), ("write", a.write)]
                    .into_iter()
                    .filter(|(_, on)| *on)
                    .map(|(p, _)| p)
                    .collect::<Vec<_>>()
                    .join(", ");
                Listed {
                    display_name: format!("{} ({phases})", a.id),
                    state: attachment_state(a),
                }
            })
            .collect())
    }
}
