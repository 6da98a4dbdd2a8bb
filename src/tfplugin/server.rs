//! The `tfplugin6.Provider` gRPC service: decodes requests against schemas,
//! dispatches to the provider's registry, encodes answers.
//!
//! Everything user-facing that can go wrong (undecodable values, unknown type
//! names, provider errors) is returned as diagnostics, never as a gRPC error:
//! Terraform shows diagnostics next to the configuration, while a gRPC error
//! surfaces as an opaque "plugin error".

use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::plan;
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

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}. Check the spelling and the provider version."),
    )
    .into()
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

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .registry
                .data_sources
                .keys()
                .map(|n| m::DataSourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            resources: self
                .registry
                .resources
                .keys()
                .map(|n| m::ResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            functions: self
                .registry
                .functions
                .keys()
                .map(|n| m::FunctionMetadata {
                    name: n.to_string(),
                })
                .collect(),
            ephemeral_resources: self
                .registry
                .ephemeral_resources
                .keys()
                .map(|n| m::EphemeralMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        let r = &self.registry;
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider.schema().to_proto()),
            resource_schemas: r
                .resources
                .iter()
                .map(|(n, x)| (n.to_string(), x.schema().to_proto()))
                .collect(),
            data_source_schemas: r
                .data_sources
                .iter()
                .map(|(n, x)| (n.to_string(), x.schema().to_proto()))
                .collect(),
            functions: r
                .functions
                .iter()
                .map(|(n, f)| (n.to_string(), f.signature().to_proto()))
                .collect(),
            ephemeral_resource_schemas: r
                .ephemeral_resources
                .iter()
                .map(|(n, x)| (n.to_string(), x.schema().to_proto()))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let schema = self.provider.schema();
        let result = decode(
            &schema.value_type(),
            req.get_ref().config.as_ref(),
            "provider configuration",
        )
        .and_then(|config| {
            let diags = self.provider.validate(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_of(&result),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let result = match self.registry.resources.get(req.type_name.as_str()) {
            None => Err(unknown_type("resource", &req.type_name)),
            Some(r) => validate_config(&r.schema(), req.config.as_ref(), |c| r.validate(c)),
        };
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_of(&result),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let result = match self.registry.data_sources.get(req.type_name.as_str()) {
            None => Err(unknown_type("data source", &req.type_name)),
            Some(d) => validate_config(&d.schema(), req.config.as_ref(), |c| d.validate(c)),
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_of(&result),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let result = (|| {
            let r = self
                .registry
                .resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("resource", &req.type_name))?;
            let raw = req
                .raw_state
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or_default();
            let stored: serde_json::Value = if raw.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(raw).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable state",
                        format!("The stored state is not JSON ({e}); legacy flatmap state is not supported."),
                    ))
                })?
            };
            let upgraded = r.upgrade_state(req.version, stored)?;
            let ty = r.schema().value_type();
            let value = value::json::decode(&ty, upgraded.to_string().as_bytes())
                .map_err(|e| codec_diag("Stored state does not match the schema", e))?;
            encode(&ty, &value, "upgraded state")
        })();
        let diagnostics = diags_of(&result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: result.ok(),
            diagnostics,
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        // No resource declares an identity: import ids are documented strings.
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: Diagnostics::from(Diagnostic::error(
                "Resource identity not supported",
                format!(
                    "{} has no resource identity in this provider.",
                    req.get_ref().type_name
                ),
            ))
            .to_proto(),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let req = req.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "configuring provider");
        let schema = self.provider.schema();
        let result = match decode(
            &schema.value_type(),
            req.config.as_ref(),
            "provider configuration",
        ) {
            Err(d) => Err(d),
            Ok(config) => self
                .until_stopped(self.provider.configure(&config, &req.terraform_version))
                .await
                .map(|data| {
                    let _ = self.data.set(Arc::new(data));
                }),
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_of(&result),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let req = req.into_inner();
        let result = async {
            let r = self
                .registry
                .resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("resource", &req.type_name))?;
            let ty = r.schema().value_type();
            let current = decode(&ty, req.current_state.as_ref(), "current state")?;
            let data = self.data()?;
            let read = self.until_stopped(r.read(&data, &current)).await?;
            encode(&ty, &read.unwrap_or(Value::Null), "state")
        }
        .await;
        let diagnostics = diags_of(&result);
        Ok(Response::new(pb::read_resource::Response {
            new_state: result.ok(),
            diagnostics,
            private: req.private,
            deferred: None,
            new_identity: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let result = (|| {
            let r = self
                .registry
                .resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("resource", &req.type_name))?;
            let schema = r.schema();
            let ty = schema.value_type();
            let prior = decode(&ty, req.prior_state.as_ref(), "prior state")?;
            let proposed = decode(&ty, req.proposed_new_state.as_ref(), "proposed state")?;
            if proposed.is_null() {
                return Ok((encode(&ty, &Value::Null, "plan")?, Vec::new()));
            }
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let generic = plan::plan(&schema, &prior, &proposed, &config);
            let planned = r.plan(generic.planned, &prior)?;
            Ok((encode(&ty, &planned, "plan")?, generic.requires_replace))
        })();
        let diagnostics = diags_of(&result);
        let (planned_state, requires_replace) = match result {
            Ok((p, rr)) => (Some(p), rr.iter().map(AttributePath::to_proto).collect()),
            Err(_) => (None, Vec::new()),
        };
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private: req.prior_private,
            diagnostics,
            legacy_type_system: false,
            deferred: None,
            planned_identity: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let result = async {
            let r = self
                .registry
                .resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("resource", &req.type_name))?;
            let ty = r.schema().value_type();
            let prior = decode(&ty, req.prior_state.as_ref(), "prior state")?;
            let planned = decode(&ty, req.planned_state.as_ref(), "planned state")?;
            let data = self.data()?;
            let new_state = if planned.is_null() {
                self.until_stopped(r.delete(&data, &prior)).await?;
                Value::Null
            } else if prior.is_null() {
                self.until_stopped(r.create(&data, &planned)).await?
            } else {
                self.until_stopped(r.update(&data, &prior, &planned))
                    .await?
            };
            encode(&ty, &new_state, "new state")
        }
        .await;
        let diagnostics = diags_of(&result);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: result.ok(),
            private: req.planned_private,
            diagnostics,
            legacy_type_system: false,
            new_identity: None,
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let result = async {
            let r = self
                .registry
                .resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("resource", &req.type_name))?;
            let data = self.data()?;
            let state = self.until_stopped(r.import(&data, &req.id)).await?;
            encode(&r.schema().value_type(), &state, "imported state")
        }
        .await;
        let diagnostics = diags_of(&result);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: result
                .ok()
                .map(|state| pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(state),
                    private: Vec::new(),
                    identity: None,
                })
                .into_iter()
                .collect(),
            diagnostics,
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        let req = req.get_ref();
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: Diagnostics::from(Diagnostic::error(
                "Move not supported",
                format!(
                    "{} cannot be moved from {} ({}): remove the old object from state and \
                     import it under the new address instead.",
                    req.target_type_name, req.source_type_name, req.source_provider_address
                ),
            ))
            .to_proto(),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let req = req.into_inner();
        let result = async {
            let d = self
                .registry
                .data_sources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("data source", &req.type_name))?;
            let ty = d.schema().value_type();
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let data = self.data()?;
            let state = self.until_stopped(d.read(&data, &config)).await?;
            encode(&ty, &state, "data source result")
        }
        .await;
        let diagnostics = diags_of(&result);
        Ok(Response::new(pb::read_data_source::Response {
            state: result.ok(),
            diagnostics,
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        let req = req.into_inner();
        let result = match self
            .registry
            .ephemeral_resources
            .get(req.type_name.as_str())
        {
            None => Err(unknown_type("ephemeral resource", &req.type_name)),
            Some(e) => validate_config(&e.schema(), req.config.as_ref(), |c| e.validate(c)),
        };
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_of(&result),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        let req = req.into_inner();
        let result = async {
            let e = self
                .registry
                .ephemeral_resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("ephemeral resource", &req.type_name))?;
            let ty = e.schema().value_type();
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let data = self.data()?;
            let opened = self.until_stopped(e.open(&data, &config)).await?;
            Ok::<_, Diagnostics>((encode(&ty, &opened.result, "ephemeral result")?, opened))
        }
        .await;
        Ok(Response::new(match result {
            Ok((value, opened)) => pb::open_ephemeral_resource::Response {
                diagnostics: Vec::new(),
                renew_at: opened.renew_at.map(prost_types::Timestamp::from),
                result: Some(value),
                private: Some(opened.private),
                deferred: None,
            },
            Err(d) => pb::open_ephemeral_resource::Response {
                diagnostics: d.to_proto(),
                ..Default::default()
            },
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        let req = req.into_inner();
        let result = async {
            let e = self
                .registry
                .ephemeral_resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("ephemeral resource", &req.type_name))?;
            let data = self.data()?;
            self.until_stopped(e.renew(&data, req.private.as_deref().unwrap_or_default()))
                .await
        }
        .await;
        Ok(Response::new(match result {
            Ok((renew_at, private)) => pb::renew_ephemeral_resource::Response {
                diagnostics: Vec::new(),
                renew_at: renew_at.map(prost_types::Timestamp::from),
                private: Some(private),
            },
            Err(d) => pb::renew_ephemeral_resource::Response {
                diagnostics: d.to_proto(),
                ..Default::default()
            },
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        let req = req.into_inner();
        let result = async {
            let e = self
                .registry
                .ephemeral_resources
                .get(req.type_name.as_str())
                .ok_or_else(|| unknown_type("ephemeral resource", &req.type_name))?;
            let data = self.data()?;
            self.until_stopped(e.close(&data, req.private.as_deref().unwrap_or_default()))
                .await
        }
        .await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diags_of(&result),
        }))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self
                .registry
                .functions
                .iter()
                .map(|(n, f)| (n.to_string(), f.signature().to_proto()))
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        use super::function::FunctionError;
        let req = req.into_inner();
        let result = (|| {
            let f = self
                .registry
                .functions
                .get(req.name.as_str())
                .ok_or_else(|| FunctionError {
                    text: format!("this provider has no function {:?}", req.name),
                    argument: None,
                })?;
            let sig = f.signature();
            if req.arguments.len() != sig.parameters.len() {
                return Err(FunctionError {
                    text: format!(
                        "{} takes {} arguments, got {}",
                        req.name,
                        sig.parameters.len(),
                        req.arguments.len()
                    ),
                    argument: None,
                });
            }
            let args = req
                .arguments
                .iter()
                .zip(&sig.parameters)
                .enumerate()
                .map(|(i, (dv, p))| {
                    wire::decode_dynamic(&p.ty, Some(dv))
                        .map_err(|e| FunctionError::argument(i, format!("{}: {e}", p.name)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = f.call(&args)?;
            wire::encode_dynamic(&sig.returns, &out).map_err(|e| FunctionError {
                text: format!("could not encode the result: {e}"),
                argument: None,
            })
        })();
        Ok(Response::new(match result {
            Ok(v) => pb::call_function::Response {
                result: Some(v),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(e.to_proto()),
            },
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}
