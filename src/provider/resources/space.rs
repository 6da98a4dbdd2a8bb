//! `deputy_space`: a space of the broker's tree. Its id and parent never
//! change (keys, stacks and integrations name it; moving it would move
//! what every key in it may reach), so changing either replaces it.
//! Import id: the space id.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection, to_diags};
use super::super::model::resource_model;
use super::super::validate;
use super::super::values::text;
use crate::model::{Name, SpaceId};
use crate::wire::{Labels, Space, SpaceInput};
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct SpaceResource;

resource_model! {
    /// `deputy_space`'s attributes.
    pub(crate) struct SpaceModel {
        id: String => |n| Attribute::required(
            n,
            Type::String,
            "The space's slug: 1 to 63 lowercase letters, digits and `-`. Changing it replaces the space.",
        )
        .requires_replace(),
        name: Option<String> => |n| Attribute::optional_computed(n, Type::String, "Display name. Defaults to the id.").stable(),
        parent_id: Option<String> => |n| Attribute::optional_computed(
            n,
            Type::String,
            "The parent space. Defaults to `root`. Changing it replaces the space (which must then be empty).",
        )
        .default(text(SpaceId::root()))
        .requires_replace(),
        inherit: bool => |n| Attribute::optional_computed(
            n,
            Type::Bool,
            "Stacks in this space may use the parent's integrations (and, through a parent that \
             inherits too, the grandparent's). Only an admin of the parent may change it, and \
             turning it off is refused while an attachment depends on it. Defaults to false.",
        )
        .default(Value::Bool(false)),
        labels: Labels => |n| Attribute::optional_computed(n, Type::map(Type::String), "Free-form labels. Defaults to none (`{}`).")
            .default(Value::Map(Default::default())),
        description: String => |n| Attribute::optional_computed(n, Type::String, "Free-form description. Defaults to `\"\"`.")
            .default(text("")),
        created_at: String => |n| Attribute::computed(n, Type::String, "When the space was created (RFC 3339).").stable(),
    }
}

fn input(planned: &Value) -> SpaceInput {
    let m = SpaceModel::from_value(planned);
    SpaceInput {
        id: m.id,
        name: m.name,
        parent_id: m.parent_id,
        inherit: m.inherit,
        labels: m.labels,
        description: m.description,
    }
}

/// State from the broker's answer.
pub(crate) fn state(s: Space) -> Value {
    SpaceModel {
        id: s.id.into(),
        name: Some(s.name),
        parent_id: s.parent_id.map(Into::into),
        inherit: s.inherit,
        labels: s.labels,
        description: s.description,
        created_at: s.created_at,
    }
    .to_value()
}

#[async_trait]
impl Resource<BrokerConnection> for SpaceResource {
    fn type_name(&self) -> &'static str {
        "deputy_space"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[(SpaceModel::id, "The space's id.")],
        })
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "A space of the deputy broker: stacks, integrations and keys belong to one, and a \
             key acts in its space and below. A stack may use the integrations of its space and \
             of the spaces above it reached through spaces that `inherit`.\n\nThe root space \
             exists in every broker and is not managed here.",
            SpaceModel::attributes(),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<SpaceId>(config, SpaceModel::id, "Invalid space id", &mut diags);
        validate::attr::<SpaceId>(
            config,
            SpaceModel::parent_id,
            "Invalid parent space",
            &mut diags,
        );
        validate::attr::<Name>(config, SpaceModel::name, "Invalid name", &mut diags);
        validate::labels(config, SpaceModel::labels, &mut diags);
        diags
    }

    /// The name defaults to the id, known as soon as the id is.
    async fn plan(
        &self,
        _broker: Option<&BrokerConnection>,
        mut planned: Value,
        _prior: &Value,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        if config.get(SpaceModel::name).is_null()
            && let Some(id) = planned.get(SpaceModel::id).as_str().map(text)
            && let Value::Object(m) = &mut planned
        {
            m.insert(SpaceModel::name.into(), id);
        }
        Ok(planned)
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let created = broker.client()?.create_space(&input(planned)).await?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let id = SpaceModel::from_value(current).id;
        Ok(broker.client()?.space(&id).await.or_gone()?.map(state))
    }

    async fn update(
        &self,
        broker: &BrokerConnection,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let id = SpaceModel::from_value(planned).id;
        let updated = broker.client()?.replace_space(&id, &input(planned)).await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = SpaceModel::from_value(prior).id;
        broker.client()?.delete_space(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let s = broker
            .client()?
            .space(id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr(SpaceModel::id))))?;
        Ok(state(s))
    }
}
