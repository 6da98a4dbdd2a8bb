//! Actions: ValidateActionConfig, PlanAction and InvokeAction (Terraform
//! 1.14). An invocation runs in its own task so its progress reaches
//! Terraform while it runs; StopProvider cancels it.

use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::Status;

use super::{ProviderService, decode, diags_of, lookup, validate_config};
use crate::action::Progress;
use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;

pub(crate) type InvokeEvents = UnboundedReceiverStream<Result<pb::invoke_action::Event, Status>>;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_action_config(
        &self,
        req: pb::validate_action_config::Request,
    ) -> pb::validate_action_config::Response {
        let result = lookup(&self.registry.actions, "action", &req.type_name)
            .and_then(|a| validate_config(&a.schema(), req.config.as_ref(), |c| a.validate(c)));
        pb::validate_action_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    /// An action changes no state, so its plan is its validation.
    pub(crate) fn plan_action(&self, req: pb::plan_action::Request) -> pb::plan_action::Response {
        let result = lookup(&self.registry.actions, "action", &req.action_type)
            .and_then(|a| validate_config(&a.schema(), req.config.as_ref(), |c| a.validate(c)));
        pb::plan_action::Response {
            diagnostics: diags_of(&result),
            deferred: None,
        }
    }

    pub(crate) fn invoke_action(&self, req: pb::invoke_action::Request) -> InvokeEvents {
        let (events, stream) = mpsc::unbounded_channel();
        let completed = |diags: Diagnostics| {
            Ok(pb::invoke_action::Event {
                r#type: Some(pb::invoke_action::event::Type::Completed(
                    pb::invoke_action::event::Completed {
                        diagnostics: diags.to_proto(),
                    },
                )),
            })
        };
        let started = (|| {
            let action = lookup(&self.registry.actions, "action", &req.action_type)?.clone();
            let config = decode(
                &action.schema().value_type(),
                req.config.as_ref(),
                "configuration",
            )?;
            Ok::<_, Diagnostics>((action, config, self.data()?))
        })();
        let (action, config, data) = match started {
            Ok(started) => started,
            Err(d) => {
                let _ = events.send(completed(d));
                return UnboundedReceiverStream::new(stream);
            }
        };
        let stop = self.stop.clone();
        tokio::spawn(async move {
            let (lines, mut progress) = mpsc::unbounded_channel::<String>();
            let reporter = Progress(lines);
            let run = action.invoke(&data, &config, &reporter);
            tokio::pin!(run);
            let outcome = loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    Some(line) = progress.recv() => {
                        let _ = events.send(Ok(pb::invoke_action::Event {
                            r#type: Some(pb::invoke_action::event::Type::Progress(
                                pb::invoke_action::event::Progress { message: line },
                            )),
                        }));
                    }
                    _ = stop.cancelled() => break Err(Diagnostic::error(
                        "Action cancelled",
                        "Terraform asked the provider to stop before the action finished.",
                    ).into()),
                }
            };
            // Lines sent just before the end still go out, in order.
            while let Ok(line) = progress.try_recv() {
                let _ = events.send(Ok(pb::invoke_action::Event {
                    r#type: Some(pb::invoke_action::event::Type::Progress(
                        pb::invoke_action::event::Progress { message: line },
                    )),
                }));
            }
            let _ = events.send(completed(match outcome {
                Ok(warnings) => warnings,
                Err(errors) => errors,
            }));
        });
        UnboundedReceiverStream::new(stream)
    }
}
