//! `data "deputy_aws_integrations"`: integrations matching labels and space.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::values::{labels, labels_value, object, string, text};
use tfplugin::data_source::DataSource;
use tfplugin::diag::Diagnostics;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationsDataSource;

fn item_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("name", Type::String),
        ("role_arn", Type::String),
        ("region", Type::String),
        ("space", Type::String),
        ("labels", Type::map(Type::String)),
    ])
}

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationsDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integrations"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "AWS integrations whose labels include every given label (and in the given space, if any).",
            vec![
                Attribute::optional(
                    "labels",
                    Type::map(Type::String),
                    "Labels an integration must all have.",
                ),
                Attribute::optional("space", Type::String, "Only integrations in this space."),
                Attribute::computed(
                    "ids",
                    Type::list(Type::String),
                    "Ids of the matching integrations, by name.",
                ),
                Attribute::computed(
                    "integrations",
                    Type::list(item_type()),
                    "The matching integrations, by name: id, name, role_arn, region, space, labels.",
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
        let space = string(config, "space");
        let found = broker
            .client()?
            .integrations(space.as_deref(), &labels(config, "labels"))
            .await?;
        Ok(object([
            ("labels", config.get("labels").clone()),
            ("space", config.get("space").clone()),
            (
                "ids",
                Value::List(found.iter().map(|i| text(i.id.as_str())).collect()),
            ),
            (
                "integrations",
                Value::List(
                    found
                        .into_iter()
                        .map(|i| {
                            object([
                                ("id", text(i.id)),
                                ("name", text(i.name)),
                                ("role_arn", text(i.role_arn)),
                                ("region", text(i.region)),
                                ("space", text(i.space)),
                                ("labels", labels_value(&i.labels)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]))
    }
}
