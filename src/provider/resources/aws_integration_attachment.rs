//! `deputy_aws_integration_attachment`: lets one stack use an integration
//! for its plans (`read`), applies (`write`) or both. Changing either end
//! replaces the attachment. Import id: `INTEGRATION_ID/STACK_ID`.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection};
use super::super::values::{boolean, object, string, text};
use crate::wire::{Attachment, AttachmentInput, AttachmentUpdate};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationAttachmentResource;

pub(crate) fn state(a: Attachment) -> Value {
    object([
        ("id", text(a.id)),
        ("integration_id", text(a.integration_id)),
        ("stack_id", text(a.stack_id)),
        ("read", Value::Bool(a.read)),
        ("write", Value::Bool(a.write)),
        (
            "external_ids",
            Value::Map(
                a.external_ids
                    .into_iter()
                    .map(|(p, id)| (p.to_string(), text(id)))
                    .collect(),
            ),
        ),
    ])
}

fn ends(v: &Value) -> (String, String) {
    (
        string(v, "integration_id").unwrap_or_default(),
        string(v, "stack_id").unwrap_or_default(),
    )
}

fn phases(v: &Value) -> (bool, bool) {
    (
        boolean(v, "read").unwrap_or(true),
        boolean(v, "write").unwrap_or(true),
    )
}

#[async_trait]
impl Resource<BrokerConnection> for AwsIntegrationAttachmentResource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_attachment"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[
                ("integration_id", "The integration's id."),
                ("stack_id", "The stack's id."),
            ],
        })
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Attaches an AWS integration to a stack for its plans (`read`), applies (`write`) or \
             both. A stack has at most one integration per phase.\n\nThe broker verifies the role \
             before the attachment (or an added phase) takes effect: assumable with the stack's \
             External IDs and, for every phase in use, refused with each part of the External ID \
             replaced by a value nobody holds (another account, integration, stack or phase), \
             without one, with one of no deputy shape, and to the broker's canary when it has \
             one. A role that fails is a diagnostic naming the probe and the statement to use, \
             and nothing is attached.",
            vec![
                Attribute::computed(
                    "id",
                    Type::String,
                    "`<integration_id>/<stack_id>`, also the import id.",
                )
                .stable(),
                Attribute::required(
                    "integration_id",
                    Type::String,
                    "The integration's id. Changing it replaces the attachment.",
                )
                .requires_replace(),
                Attribute::required(
                    "stack_id",
                    Type::String,
                    "The stack's id. Changing it replaces the attachment.",
                )
                .requires_replace(),
                Attribute::optional_computed(
                    "read",
                    Type::Bool,
                    "Serve the stack's plans. Defaults to true.",
                )
                .default(Value::Bool(true)),
                Attribute::optional_computed(
                    "write",
                    Type::Bool,
                    "Serve the stack's applies. Defaults to true.",
                )
                .default(Value::Bool(true)),
                Attribute::computed(
                    "external_ids",
                    Type::map(Type::String),
                    "External ID of each attached phase, keyed `read` / `write`.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if config.get("read").as_bool() == Some(false)
            && config.get("write").as_bool() == Some(false)
        {
            diags.push(
                Diagnostic::error(
                    "Attachment serves no phase",
                    "read and write are both false: set read = true (plans), write = true (applies), or \
                     leave either out (defaults to true).",
                )
                .at(AttributePath::attr("write")),
            );
        }
        diags
    }

    /// The id is known as soon as both ends are.
    fn plan(
        &self,
        mut planned: Value,
        _prior: &Value,
        _config: &Value,
    ) -> Result<Value, Diagnostics> {
        if let (Some(i), Some(s)) = (
            planned.get("integration_id").as_str(),
            planned.get("stack_id").as_str(),
        ) {
            let id = text(format!("{i}/{s}"));
            if let Value::Object(m) = &mut planned {
                m.insert("id".into(), id);
            }
        }
        Ok(planned)
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let (integration, stack) = ends(planned);
        let (read, write) = phases(planned);
        let created = broker
            .client()?
            .attach(
                &integration,
                &AttachmentInput {
                    stack_id: stack,
                    read,
                    write,
                },
            )
            .await?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let (integration, stack) = ends(current);
        Ok(broker
            .client()?
            .attachment(&integration, &stack)
            .await
            .or_gone()?
            .map(state))
    }

    async fn update(
        &self,
        broker: &BrokerConnection,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let (integration, stack) = ends(planned);
        let (read, write) = phases(planned);
        let updated = broker
            .client()?
            .update_attachment(&integration, &stack, &AttachmentUpdate { read, write })
            .await?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let (integration, stack) = ends(prior);
        broker
            .client()?
            .detach(&integration, &stack)
            .await
            .or_done()
    }

    async fn import(&self, broker: &BrokerConnection, id: &str) -> Result<Value, Diagnostics> {
        let Some((integration, stack)) = id
            .split_once('/')
            .filter(|(i, s)| !i.is_empty() && !s.is_empty() && !s.contains('/'))
        else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!(
                    "{id:?} is not an attachment id: use INTEGRATION_ID/STACK_ID, for example \
                     01JQ3ZV8T4M5N6P7Q8R9S0T1V2/prod-network"
                ),
            )
            .into());
        };
        let a = broker.client()?.attachment(integration, stack).await?;
        Ok(state(a))
    }
}
