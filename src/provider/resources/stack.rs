//! `deputy_stack`: a stack registered with the broker. Its id (slug) is
//! part of every External ID issued for it, so changing it replaces the
//! stack. Import id: the stack id.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection, to_diags};
use super::super::model::resource_model;
use super::super::validate;
use super::super::values::text;
use crate::model::{Name, SpaceId, StackId};
use crate::wire::{Labels, Stack, StackInput};
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct StackResource;

resource_model! {
    /// `deputy_stack`'s attributes. Labels and description are always
    /// known in state (`{}` and `""` when empty, their defaults), so a
    /// state read after an import matches a configuration that sets them
    /// empty or leaves them out.
    pub(crate) struct StackModel {
        id: String => |n| Attribute::required(
            n,
            Type::String,
            "The stack's slug: 1 to 63 lowercase letters, digits and `-`. Changing it replaces the stack.",
        )
        .requires_replace(),
        name: Option<String> => |n| Attribute::optional_computed(n, Type::String, "Display name. Defaults to the id.").stable(),
        space: Option<String> => |n| Attribute::optional_computed(n, Type::String, "The id of the space the stack belongs to. Defaults to `root`.")
            .default(text(SpaceId::root())),
        labels: Labels => |n| Attribute::optional_computed(n, Type::map(Type::String), "Free-form labels. Defaults to none (`{}`).")
            .default(Value::Map(Default::default())),
        description: String => |n| Attribute::optional_computed(n, Type::String, "Free-form description. Defaults to `\"\"`.")
            .default(text("")),
        created_at: String => |n| Attribute::computed(n, Type::String, "When the stack was registered (RFC 3339).").stable(),
    }
}

fn input(planned: &Value) -> StackInput {
    let m = StackModel::from_value(planned);
    StackInput {
        id: m.id,
        name: m.name,
        space: m.space,
        labels: m.labels,
        description: m.description,
    }
}

/// State from the broker's answer.
pub(crate) fn state(s: Stack) -> Value {
    StackModel {
        id: s.id.into(),
        name: Some(s.name),
        space: Some(s.space),
        labels: s.labels,
        description: s.description,
        created_at: s.created_at,
    }
    .to_value()
}

#[async_trait]
impl Resource<BrokerConnection> for StackResource {
    fn type_name(&self) -> &'static str {
        "deputy_stack"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[(StackModel::id, "The stack's id.")],
        })
    }

    fn schema(&self) -> Schema {
        // Version 1: labels and description default to `{}` and `""`
        // instead of null (state of version 0 is upgraded to match).
        Schema::new(
            1,
            "A stack registered with the deputy broker. Runs of a stack get AWS credentials \
             through the integrations attached to it.\n\nThe id is part of every External ID \
             issued for the stack, so changing it replaces the stack.",
            StackModel::attributes(),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<StackId>(config, StackModel::id, "Invalid stack id", &mut diags);
        validate::attr::<Name>(config, StackModel::name, "Invalid name", &mut diags);
        validate::attr::<SpaceId>(config, StackModel::space, "Invalid space", &mut diags);
        validate::labels(config, StackModel::labels, &mut diags);
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
        if config.get(StackModel::name).is_null()
            && let Some(id) = planned.get(StackModel::id).as_str().map(text)
            && let Value::Object(m) = &mut planned
        {
            m.insert(StackModel::name.into(), id);
        }
        Ok(planned)
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let created = broker.client()?.create_stack(&input(planned)).await?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let id = StackModel::from_value(current).id;
        Ok(broker.client()?.stack(&id).await.or_gone()?.map(state))
    }

    async fn update(
        &self,
        broker: &BrokerConnection,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let id = StackModel::from_value(planned).id;
        let updated = broker.client()?.replace_stack(&id, &input(planned)).await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = StackModel::from_value(prior).id;
        broker.client()?.delete_stack(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let s = broker
            .client()?
            .stack(id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr(StackModel::id))))?;
        Ok(state(s))
    }
}
