//! `data "deputy_stack"`: a registered stack, by id.

use async_trait::async_trait;

use super::super::connection::{BrokerConnection, to_diags};
use super::super::values::{labels_value, object, string, text};
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct StackDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for StackDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_stack"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "A stack registered with the deputy broker.",
            vec![
                Attribute::required("id", Type::String, "The stack's id (slug)."),
                Attribute::computed("name", Type::String, "Display name."),
                Attribute::computed("space", Type::String, "Space."),
                Attribute::computed("labels", Type::map(Type::String), "Labels."),
                Attribute::computed("description", Type::String, "Description."),
            ],
        )
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let id = string(config, "id").unwrap_or_default();
        let s = broker
            .client()?
            .stack(&id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr("id"))))?;
        Ok(object([
            ("id", text(s.id)),
            ("name", text(s.name)),
            ("space", text(s.space)),
            ("labels", labels_value(&s.labels)),
            ("description", text(s.description)),
        ]))
    }
}
