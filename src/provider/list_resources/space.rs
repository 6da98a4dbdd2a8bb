//! `list "deputy_space"`: the spaces of the key's subtree (never `root`,
//! which every broker has and no configuration manages), optionally only
//! the children of one space or those carrying labels.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::resources::space_state;
use super::super::validate;
use super::super::values::{labels, string};
use crate::model::SpaceId;
use tfplugin::diag::Diagnostics;
use tfplugin::list_resource::{ListResource, Listed};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct SpaceList;

#[async_trait]
impl ListResource<BrokerConnection> for SpaceList {
    fn type_name(&self) -> &'static str {
        "deputy_space"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Finds spaces of the provider key's subtree (never `root`), for adopting them with \
             `terraform query`.",
            vec![
                Attribute::optional(
                    "parent_id",
                    Type::String,
                    "Only the children of this space.",
                ),
                Attribute::optional(
                    "labels",
                    Type::map(Type::String),
                    "Only spaces carrying every one of these labels.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<SpaceId>(config, "parent_id", "Invalid parent space", &mut diags);
        validate::labels(config, "labels", &mut diags);
        diags
    }

    async fn list(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        limit: usize,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let parent = string(config, "parent_id");
        let wanted = labels(config, "labels");
        let spaces = broker.client()?.spaces().await?;
        Ok(spaces
            .into_iter()
            .filter(|s| s.parent_id.is_some())
            .filter(|s| {
                parent
                    .as_ref()
                    .is_none_or(|p| s.parent_id.as_ref().is_some_and(|sp| sp.as_str() == p))
            })
            .filter(|s| wanted.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .take(limit)
            .map(|s| Listed {
                display_name: if s.name == s.id.as_str() {
                    s.id.to_string()
                } else {
                    format!("{} ({})", s.id, s.name)
                },
                state: space_state(s),
            })
            .collect())
    }
}
