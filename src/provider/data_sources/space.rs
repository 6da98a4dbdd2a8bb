//! `data "deputy_space"`: a space of the broker's tree, by id.

use async_trait::async_trait;

use super::super::connection::{BrokerConnection, to_diags};
use super::super::values::{labels_value, object, string, text};
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct SpaceDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for SpaceDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_space"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "A space of the deputy broker, in the subtree of the provider's key.",
            vec![
                Attribute::required("id", Type::String, "The space's id (slug)."),
                Attribute::computed("name", Type::String, "Display name."),
                Attribute::computed(
                    "parent_id",
                    Type::String,
                    "The parent space; null for `root`.",
                ),
                Attribute::computed(
                    "inherit",
                    Type::Bool,
                    "Whether its stacks may use the parent's integrations.",
                ),
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
            .space(&id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr("id"))))?;
        Ok(object([
            ("id", text(s.id)),
            ("name", text(s.name)),
            ("parent_id", s.parent_id.map_or(Value::Null, text)),
            ("inherit", Value::Bool(s.inherit)),
            ("labels", labels_value(&s.labels)),
            ("description", text(s.description)),
        ]))
    }
}
