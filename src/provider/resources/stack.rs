//! `deputy_stack`: a stack registered with the broker. Its id (slug) is
//! part of every External ID issued for it, so changing it replaces the
//! stack. Import id: the stack id.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection, to_diags};
use super::super::validate;
use super::super::values::{labels, labels_value, object, string, text};
use crate::model::{Name, Space, StackId};
use crate::wire::{Stack, StackInput};
use tfplugin::diag::{AttributePath, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct StackResource;

fn input(v: &Value) -> StackInput {
    StackInput {
        id: string(v, "id").unwrap_or_default(),
        name: string(v, "name"),
        space: string(v, "space"),
        labels: labels(v, "labels"),
        description: string(v, "description").unwrap_or_default(),
    }
}

/// State from the broker's answer. Labels and description are always known
/// (`{}` and `""` when empty, their defaults), so a state read after an
/// import matches a configuration that sets them empty or leaves them out.
pub(crate) fn state(s: Stack) -> Value {
    object([
        ("id", text(s.id)),
        ("name", text(s.name)),
        ("space", text(s.space)),
        ("labels", labels_value(&s.labels)),
        ("description", text(s.description)),
        ("created_at", text(s.created_at)),
    ])
}

#[async_trait]
impl Resource<BrokerConnection> for StackResource {
    fn type_name(&self) -> &'static str {
        "deputy_stack"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[("id", "The stack's id.")],
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
            vec![
                Attribute::required(
                    "id",
                    Type::String,
                    "The stack's slug: 1 to 63 lowercase letters, digits and `-`. Changing it replaces the stack.",
                )
                .requires_replace(),
                Attribute::optional_computed("name", Type::String, "Display name. Defaults to the id.").stable(),
                Attribute::optional_computed("space", Type::String, "Space the stack belongs to. Defaults to `root`.")
                    .default(text(Space::default())),
                Attribute::optional_computed("labels", Type::map(Type::String), "Free-form labels. Defaults to none (`{}`).")
                    .default(Value::Map(Default::default())),
                Attribute::optional_computed("description", Type::String, "Free-form description. Defaults to `\"\"`.")
                    .default(text("")),
                Attribute::computed("created_at", Type::String, "When the stack was registered (RFC 3339).").stable(),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::attr::<StackId>(config, "id", "Invalid stack id", &mut diags);
        validate::attr::<Name>(config, "name", "Invalid name", &mut diags);
        validate::attr::<Space>(config, "space", "Invalid space", &mut diags);
        validate::labels(config, "labels", &mut diags);
        diags
    }

    /// The name defaults to the id, known as soon as the id is.
    fn plan(
        &self,
        mut planned: Value,
        _prior: &Value,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        if config.get("name").is_null()
            && let Some(id) = planned.get("id").as_str().map(text)
            && let Value::Object(m) = &mut planned
        {
            m.insert("name".into(), id);
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
        let id = string(current, "id").unwrap_or_default();
        Ok(broker.client()?.stack(&id).await.or_gone()?.map(state))
    }

    async fn update(
        &self,
        broker: &BrokerConnection,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let id = string(planned, "id").unwrap_or_default();
        let updated = broker.client()?.replace_stack(&id, &input(planned)).await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let id = string(prior, "id").unwrap_or_default();
        broker.client()?.delete_stack(&id).await.or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let s = broker
            .client()?
            .stack(id)
            .await
            .map_err(|e| to_diags(e, Some(AttributePath::attr("id"))))?;
        Ok(state(s))
    }
}
