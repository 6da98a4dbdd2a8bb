//! `deputy_aws_integration_attachment`: lets one stack use an integration
//! for its plans (`read`), applies (`write`) or both. Changing either end
//! replaces the attachment. Import id: `INTEGRATION_ID/STACK_ID`.

use async_trait::async_trait;

use super::super::connection::{Absent, BrokerConnection};
use super::super::model::resource_model;
use super::super::values::text;
use crate::model::{ExternalId, Phase, StackId};
use crate::wire::{Attachment, AttachmentInput, AttachmentUpdate, Labels};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::identity::Identity;
use tfplugin::resource::Resource;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationAttachmentResource;

resource_model! {
    /// `deputy_aws_integration_attachment`'s attributes.
    pub(crate) struct AttachmentModel {
        id: String => |n| Attribute::computed(
            n,
            Type::String,
            "`<integration_id>/<stack_id>`, also the import id.",
        )
        .stable(),
        integration_id: String => |n| Attribute::required(
            n,
            Type::String,
            "The integration's id. Changing it replaces the attachment.",
        )
        .requires_replace(),
        stack_id: String => |n| Attribute::required(
            n,
            Type::String,
            "The stack's id. Changing it replaces the attachment.",
        )
        .requires_replace(),
        read: bool => |n| Attribute::optional_computed(
            n,
            Type::Bool,
            "Serve the stack's plans. Defaults to true.",
        )
        .default(Value::Bool(true)),
        write: bool => |n| Attribute::optional_computed(
            n,
            Type::Bool,
            "Serve the stack's applies. Defaults to true.",
        )
        .default(Value::Bool(true)),
        external_ids: Labels => |n| Attribute::computed(
            n,
            Type::map(Type::String),
            "External ID of each attached phase, keyed `read` / `write`.",
        ),
    }
}

pub(crate) fn state(a: Attachment) -> Value {
    AttachmentModel {
        id: a.id,
        integration_id: a.integration_id.into(),
        stack_id: a.stack_id.into(),
        read: a.read,
        write: a.write,
        external_ids: a
            .external_ids
            .into_iter()
            .map(|(p, id)| (p.to_string(), id.into()))
            .collect(),
    }
    .to_value()
}

/// The External IDs the broker will answer for the attached `phases`, or
/// `None` (left unknown until apply) when they cannot be known now: the
/// integration does not exist yet (it is created in this run), or the key
/// may not read the account. Lookups go through the connection's per-run
/// cache, so a `for_each` over many stacks asks once. A failed lookup is
/// not an error here: the apply reports it where it matters.
async fn planned_external_ids(
    broker: &BrokerConnection,
    integration_id: &str,
    stack_id: &str,
    phases: &[(Phase, bool)],
) -> Option<Value> {
    let stack: StackId = stack_id.parse().ok()?;
    let account = broker.account().await.ok()?;
    let integration = broker
        .integration(
            integration_id,
            &AttributePath::attr(AttachmentModel::integration_id),
        )
        .await
        .ok()?;
    let ids = phases.iter().filter(|(_, on)| *on).map(|(phase, _)| {
        let id = ExternalId::for_phase(
            &account.name,
            &integration.id,
            integration.external_id.as_ref(),
            &stack,
            *phase,
        );
        (phase.to_string(), text(id.to_string()))
    });
    Some(Value::Map(ids.collect()))
}

#[async_trait]
impl Resource<BrokerConnection> for AwsIntegrationAttachmentResource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration_attachment"
    }

    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: &[
                (AttachmentModel::integration_id, "The integration's id."),
                (AttachmentModel::stack_id, "The stack's id."),
            ],
        })
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "Attaches an AWS integration to a stack for its plans (`read`), applies (`write`) or \
             both. One integration serves each phase of a stack. To move a stack to another \
             integration, attach it there and remove the old attachment, in one apply: the new \
             attachment is verified and waits (`pending_handover` in the API) while the old one \
             serves, and takes the phase over when the old one goes, so runs never lack \
             credentials. A detach waits for an attach of the same stack in the same run.\n\nThe broker verifies the role \
             before the attachment (or an added phase) takes effect: assumable with the stack's \
             External IDs and, for every phase in use, refused with each part of the External ID \
             replaced by a value nobody holds (another account, integration, stack or phase), \
             without one, with one of no deputy shape, and to the broker's canary when it has \
             one. A role that fails is a diagnostic naming the probe and the statement to use, \
             and nothing is attached.",
            AttachmentModel::attributes(),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if config.get(AttachmentModel::read).as_bool() == Some(false)
            && config.get(AttachmentModel::write).as_bool() == Some(false)
        {
            diags.push(
                Diagnostic::error(
                    "Attachment serves no phase",
                    "read and write are both false: set read = true (plans), write = true (applies), or \
                     leave either out (defaults to true).",
                )
                .at(AttributePath::attr(AttachmentModel::write)),
            );
        }
        diags
    }

    /// The id is known as soon as both ends are, and the External IDs as
    /// soon as the integration exists: they are derived from the account,
    /// the integration, the stack and the phase (or are the integration's
    /// custom one), exactly as the broker will answer.
    async fn plan(
        &self,
        broker: Option<&BrokerConnection>,
        mut planned: Value,
        _prior: &Value,
        _config: &Value,
    ) -> Result<Value, Diagnostics> {
        let (Some(i), Some(s)) = (
            planned.get(AttachmentModel::integration_id).as_str(),
            planned.get(AttachmentModel::stack_id).as_str(),
        ) else {
            return Ok(planned);
        };
        let id = text(format!("{i}/{s}"));
        let phases = [
            (Phase::Read, planned.get(AttachmentModel::read).as_bool()),
            (Phase::Write, planned.get(AttachmentModel::write).as_bool()),
        ];
        let ids = match (broker, phases) {
            (Some(broker), [(_, Some(read)), (_, Some(write))]) => {
                let phases = [(Phase::Read, read), (Phase::Write, write)];
                planned_external_ids(broker, i, s, &phases).await
            }
            _ => None,
        };
        if let Value::Object(m) = &mut planned {
            m.insert(AttachmentModel::id.into(), id);
            if let Some(ids) = ids {
                m.insert(AttachmentModel::external_ids.into(), ids);
            }
        }
        Ok(planned)
    }

    async fn create(
        &self,
        broker: &BrokerConnection,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let m = AttachmentModel::from_value(planned);
        let _in_flight = broker.attaching(&m.stack_id);
        let created = broker
            .client()?
            .attach(
                &m.integration_id,
                &AttachmentInput {
                    stack_id: m.stack_id.clone(),
                    read: m.read,
                    write: m.write,
                },
            )
            .await
            .map_err(|e| broker.attach_error(&m.integration_id, &m.stack_id, e))?;
        Ok(state(created))
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let m = AttachmentModel::from_value(current);
        Ok(broker
            .client()?
            .attachment(&m.integration_id, &m.stack_id)
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
        let m = AttachmentModel::from_value(planned);
        let _in_flight = broker.attaching(&m.stack_id);
        let updated = broker
            .client()?
            .update_attachment(
                &m.integration_id,
                &m.stack_id,
                &AttachmentUpdate {
                    read: m.read,
                    write: m.write,
                },
            )
            .await
            .map_err(|e| broker.attach_error(&m.integration_id, &m.stack_id, e))?;
        Ok(state(updated))
    }

    async fn delete(&self, broker: &BrokerConnection, prior: &Value) -> Result<(), Diagnostics> {
        let m = AttachmentModel::from_value(prior);
        broker.before_detach(&m.stack_id).await;
        broker
            .client()?
            .detach(&m.integration_id, &m.stack_id)
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
