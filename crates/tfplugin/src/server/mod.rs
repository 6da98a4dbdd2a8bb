//! The `tfplugin6.Provider` gRPC service: decodes requests against schemas,
//! dispatches to the provider's registry, encodes answers.
//!
//! Layout, after terraform-plugin-framework's `internal/fwserver/`: this file
//! holds the service, the helpers every RPC shares, and the tonic trait
//! implementation, which only unwraps the request and wraps the response.
//! The work is in inherent methods of the same names, one file per RPC
//! family, each tested beside it with the fake provider in `testing`, no
//! gRPC involved:
//! - `metadata`: GetMetadata, GetProviderSchema, GetFunctions;
//! - `provider_config`: ValidateProviderConfig, ConfigureProvider,
//!   StopProvider;
//! - `resources`: managed resources, from validation to apply, import,
//!   move and identity;
//! - `data_sources`, `ephemeral`, `functions`;
//! - `list_resources` (`terraform query`) and `actions`, whose answers
//!   are streams.
//!
//! Everything user-facing that can go wrong (undecodable values, unknown type
//! names, provider errors) is returned as diagnostics, never as a gRPC error:
//! Terraform shows diagnostics next to the configuration, while a gRPC error
//! surfaces as an opaque "plugin error".

mod actions;
mod data_sources;
mod ephemeral;
mod functions;
mod list_resources;
mod metadata;
mod provider_config;
mod resources;
#[cfg(test)]
mod testing;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::provider::{Provider, Registry};
use super::schema::{Mode, Schema};
use super::value::{self, Type, Value, wire};

type Rpc<T> = Result<Response<T>, Status>;

pub struct ProviderService<P: Provider> {
    provider: P,
    registry: Registry<P::Data>,
    /// Set by ConfigureProvider; Terraform configures before any call that
    /// needs it, and at most once per process.
    data: OnceLock<Arc<P::Data>>,
    /// Cancelled by StopProvider: in-flight operations end with a diagnostic.
    stop: CancellationToken,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P) -> Self {
        let registry = provider.registry();
        ProviderService {
            provider,
            registry,
            data: OnceLock::new(),
            stop: CancellationToken::new(),
        }
    }

    fn data(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data.get().cloned().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in the \
                 calling tool; please report it with the output of TF_LOG=debug.",
            )
            .into()
        })
    }

    /// Runs provider work until it finishes or Terraform asks to stop.
    async fn until_stopped<T>(
        &self,
        work: impl Future<Output = Result<T, Diagnostics>>,
    ) -> Result<T, Diagnostics> {
        tokio::select! {
            result = work => result,
            _ = self.stop.cancelled() => Err(Diagnostic::error(
                "Operation cancelled",
                "Terraform asked the provider to stop (for example after Ctrl-C), so the \
                 operation was cancelled before it finished. Objects it was creating may exist \
                 without being in state: run `terraform plan` to see what remains.",
            ).into()),
        }
    }
}

/// Finds a type in one of the registry's maps. `kind` names the map in the
/// diagnostic ("resource", "data source", ...), which Terraform shows when a
/// configuration names a type this provider release does not have.
fn lookup<'a, T: ?Sized>(
    map: &'a BTreeMap<&'static str, Arc<T>>,
    kind: &str,
    name: &str,
) -> Result<&'a Arc<T>, Diagnostics> {
    map.get(name).ok_or_else(|| {
        Diagnostic::error(
            format!("Unknown {kind} type"),
            format!(
                "This provider has no {kind} type {name:?}. Check the spelling and the provider \
                 version."
            ),
        )
        .into()
    })
}

/// Decodes a request value; a failure names the attribute at fault.
fn decode(ty: &Type, dv: Option<&pb::DynamicValue>, what: &str) -> Result<Value, Diagnostics> {
    wire::decode_dynamic(ty, dv).map_err(|e| codec_diag(&format!("Invalid {what}"), e))
}

fn encode(ty: &Type, v: &Value, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    wire::encode_dynamic(ty, v).map_err(|e| codec_diag(&format!("Could not encode {what}"), e))
}

fn codec_diag(summary: &str, e: value::CodecError) -> Diagnostics {
    let d = Diagnostic::error(summary, e.message);
    if e.path.is_empty() { d } else { d.at(e.path) }.into()
}

/// Core does not reject values for computed-only attributes; we do, since
/// the provider would silently overwrite them.
fn reject_computed_in_config(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for attr in schema
        .attributes
        .iter()
        .filter(|a| a.mode == Mode::Computed)
    {
        if !config.get(attr.name).is_null() {
            diags.push(
                Diagnostic::error(
                    "Value for unconfigurable attribute",
                    format!(
                        "{:?} is set by the provider and cannot be configured: remove it from \
                         the configuration.",
                        attr.name
                    ),
                )
                .at(AttributePath::attr(attr.name)),
            );
        }
    }
    diags
}

/// Decodes a configuration and checks it: no values for computed-only
/// attributes, then the type's own rules.
fn validate_config(
    schema: &Schema,
    config: Option<&pb::DynamicValue>,
    check: impl FnOnce(&Value) -> Diagnostics,
) -> Result<(), Diagnostics> {
    let config = decode(&schema.value_type(), config, "configuration")?;
    let mut diags = reject_computed_in_config(schema, &config);
    diags.extend(check(&config));
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

fn diags_of<T>(result: &Result<T, Diagnostics>) -> Vec<pb::Diagnostic> {
    match result {
        Ok(_) => Vec::new(),
        Err(d) => d.to_proto(),
    }
}

/// Each method calls the inherent method of the same name (inherent methods
/// take precedence over trait methods), so the gRPC layer only converts.
#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        req: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        Ok(Response::new(self.get_metadata(req.into_inner())))
    }

    async fn get_provider_schema(
        &self,
        req: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        Ok(Response::new(self.get_provider_schema(req.into_inner())))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        Ok(Response::new(
            self.validate_provider_config(req.into_inner()),
        ))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        Ok(Response::new(
            self.validate_resource_config(req.into_inner()),
        ))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        Ok(Response::new(
            self.validate_data_resource_config(req.into_inner()),
        ))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        Ok(Response::new(self.upgrade_resource_state(req.into_inner())))
    }

    async fn get_resource_identity_schemas(
        &self,
        req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            self.get_resource_identity_schemas(req.into_inner()),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(
            self.upgrade_resource_identity(req.into_inner()),
        ))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        Ok(Response::new(
            self.configure_provider(req.into_inner()).await,
        ))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        Ok(Response::new(self.read_resource(req.into_inner()).await))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        Ok(Response::new(
            self.plan_resource_change(req.into_inner()).await,
        ))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        Ok(Response::new(
            self.apply_resource_change(req.into_inner()).await,
        ))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        Ok(Response::new(
            self.import_resource_state(req.into_inner()).await,
        ))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        Ok(Response::new(self.move_resource_state(req.into_inner())))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        Ok(Response::new(self.read_data_source(req.into_inner()).await))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        Ok(Response::new(
            self.validate_ephemeral_resource_config(req.into_inner()),
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        Ok(Response::new(
            self.open_ephemeral_resource(req.into_inner()).await,
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(
            self.renew_ephemeral_resource(req.into_inner()).await,
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(
            self.close_ephemeral_resource(req.into_inner()).await,
        ))
    }

    async fn get_functions(
        &self,
        req: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        Ok(Response::new(self.get_functions(req.into_inner())))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        Ok(Response::new(self.call_function(req.into_inner())))
    }

    type ListResourceStream =
        futures::stream::Iter<std::vec::IntoIter<Result<pb::list_resource::Event, Status>>>;

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Rpc<Self::ListResourceStream> {
        let events = self.list_resource(req.into_inner()).await;
        Ok(Response::new(futures::stream::iter(
            events.into_iter().map(Ok).collect::<Vec<_>>(),
        )))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Rpc<pb::validate_list_resource_config::Response> {
        Ok(Response::new(
            self.validate_list_resource_config(req.into_inner()),
        ))
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Rpc<pb::plan_action::Response> {
        Ok(Response::new(self.plan_action(req.into_inner())))
    }

    type InvokeActionStream = actions::InvokeEvents;

    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Rpc<Self::InvokeActionStream> {
        Ok(Response::new(self.invoke_action(req.into_inner())))
    }

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Rpc<pb::validate_action_config::Response> {
        Ok(Response::new(self.validate_action_config(req.into_inner())))
    }

    async fn stop_provider(
        &self,
        req: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        Ok(Response::new(self.stop_provider(req.into_inner())))
    }
}
