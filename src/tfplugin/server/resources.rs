//! Managed resources, in the order Terraform calls them: validate, upgrade
//! stored state, read, plan, apply, import; plus the RPCs deputy answers
//! with a refusal (identity, move).

use super::{ProviderService, codec_diag, decode, diags_of, encode, lookup, validate_config};
use crate::tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tfplugin::plan;
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;
use crate::tfplugin::value::{self, Value};

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_resource_config(
        &self,
        req: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        let result = lookup(&self.registry.resources, "resource", &req.type_name)
            .and_then(|r| validate_config(&r.schema(), req.config.as_ref(), |c| r.validate(c)));
        pb::validate_resource_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    pub(crate) fn upgrade_resource_state(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let result = (|| {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
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
                        format!(
                            "The stored state is not JSON ({e}); legacy flatmap state is not \
                             supported."
                        ),
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
        pb::upgrade_resource_state::Response {
            upgraded_state: result.ok(),
            diagnostics,
        }
    }

    pub(crate) fn get_resource_identity_schemas(
        &self,
        _: pb::get_resource_identity_schemas::Request,
    ) -> pb::get_resource_identity_schemas::Response {
        // No resource declares an identity: import ids are documented strings.
        Default::default()
    }

    pub(crate) fn upgrade_resource_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: Diagnostics::from(Diagnostic::error(
                "Resource identity not supported",
                format!(
                    "{} has no resource identity in this provider.",
                    req.type_name
                ),
            ))
            .to_proto(),
        }
    }

    pub(crate) async fn read_resource(
        &self,
        req: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        let result = async {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            let ty = r.schema().value_type();
            let current = decode(&ty, req.current_state.as_ref(), "current state")?;
            let data = self.data()?;
            let read = self.until_stopped(r.read(&data, &current)).await?;
            encode(&ty, &read.unwrap_or(Value::Null), "state")
        }
        .await;
        let diagnostics = diags_of(&result);
        pb::read_resource::Response {
            new_state: result.ok(),
            diagnostics,
            private: req.private,
            deferred: None,
            new_identity: None,
        }
    }

    pub(crate) fn plan_resource_change(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let result = (|| {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
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
        pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private: req.prior_private,
            diagnostics,
            legacy_type_system: false,
            deferred: None,
            planned_identity: None,
        }
    }

    pub(crate) async fn apply_resource_change(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let result = async {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
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
        pb::apply_resource_change::Response {
            new_state: result.ok(),
            private: req.planned_private,
            diagnostics,
            legacy_type_system: false,
            new_identity: None,
        }
    }

    pub(crate) async fn import_resource_state(
        &self,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let result = async {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            let data = self.data()?;
            let state = self.until_stopped(r.import(&data, &req.id)).await?;
            encode(&r.schema().value_type(), &state, "imported state")
        }
        .await;
        let diagnostics = diags_of(&result);
        pb::import_resource_state::Response {
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
        }
    }

    pub(crate) fn move_resource_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        pb::move_resource_state::Response {
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
        }
    }
}
