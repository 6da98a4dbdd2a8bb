//! `list "deputy_stack"`: registered stacks, optionally only those in a
//! space or carrying labels. The broker lists stacks unfiltered; the
//! filters apply here.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::resources::stack_state;
use super::super::validate;
use super::super::values::{labels, string};
use tfplugin::diag::Diagnostics;
use tfplugin::list_resource::{ListResource, Listed};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct StackList;

#[async_trait]
impl ListResource<BrokerConnection> for StackList {
    fn type_name(&self) -> &'static str {
        "deputy_stack"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Finds registered stacks, for adopting them with `terraform query`.",
            vec![
                Attribute::optional("space", Type::String, "Only stacks in this space."),
                Attribute::optional(
                    "labels",
                    Type::map(Type::String),
                    "Only stacks carrying every one of these labels.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::labels(config, "labels", &mut diags);
        diags
    }

    async fn list(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        limit: usize,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let space = string(config, "space");
        let wanted = labels(config, "labels");
        let stacks = broker.client()?.stacks().await?;
        Ok(stacks
            .into_iter()
            .filter(|s| space.as_ref().is_none_or(|space| &s.space == space))
            .filter(|s| wanted.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .take(limit)
            .map(|s| Listed {
                display_name: if s.name == s.id.as_str() {
                    s.id.to_string()
                } else {
                    format!("{} ({})", s.id, s.name)
                },
                state: stack_state(s),
            })
            .collect())
    }
}
