//! Managed resources, in the order Terraform calls them: validate, upgrade
//! stored state and identity, read, plan, apply, import; plus the one RPC
//! deputy answers with a refusal (move). Every answer about an object
//! carries its identity when the resource declares one (see
//! [`crate::identity`]).

use super::{ProviderService, codec_diag, decode, diags_of, encode, lookup, validate_config};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::identity::{self, Identity};
use crate::plan;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::value::{self, Value};

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
            let ty = r.schema().value_type();
            let raw = req
                .raw_state
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or_default();
            if raw.is_empty() {
                return encode(&ty, &Value::Null, "upgraded state");
            }
            // Straight from the stored JSON to the schema's type: numbers
            // stay exact, removed attributes are dropped.
            let stored = value::json::decode_state(&ty, raw)
                .map_err(|e| codec_diag("Unreadable stored state", e))?;
            let upgraded = r.upgrade_state(req.version, stored)?;
            encode(&ty, &upgraded, "upgraded state")
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
        pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .registry
                .resources
                .iter()
                .filter_map(|(name, r)| Some((name.to_string(), r.identity()?.to_proto())))
                .collect(),
            diagnostics: Vec::new(),
        }
    }

    /// Identities are derived from state, so an upgrade only re-reads one
    /// stored by an earlier (or this) identity version.
    pub(crate) fn upgrade_resource_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let result = (|| {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            let Some(id) = r.identity() else {
                return Err(Diagnostic::error(
                    "Resource identity not supported",
                    format!(
                        "{} has no resource identity in this provider.",
                        req.type_name
                    ),
                )
                .into());
            };
            if req.version > identity::VERSION {
                return Err(Diagnostic::error(
                    "Identity from a newer provider",
                    format!(
                        "The identity of this {} was written with identity version {}, by a \
                         newer release of the deputy provider; use that release or a newer one.",
                        req.type_name, req.version
                    ),
                )
                .into());
            }
            let raw = req
                .raw_identity
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or_default();
            let stored = value::json::decode_state(&id.value_type(), raw)
                .map_err(|e| codec_diag("Unreadable stored identity", e))?;
            id.encode(&stored)
        })();
        let diagnostics = diags_of(&result);
        pb::upgrade_resource_identity::Response {
            upgraded_identity: result.ok(),
            diagnostics,
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
            let read = self
                .until_stopped(r.read(&data, &current))
                .await?
                .unwrap_or(Value::Null);
            Ok((
                encode(&ty, &read, "state")?,
                identity_of(r.identity(), &read)?,
            ))
        }
        .await;
        let diagnostics = diags_of(&result);
        let (new_state, new_identity) = split(result);
        pb::read_resource::Response {
            new_state,
            diagnostics,
            private: req.private,
            deferred: None,
            new_identity,
        }
    }

    pub(crate) async fn plan_resource_change(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let result = async {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            let schema = r.schema();
            let ty = schema.value_type();
            let prior = decode(&ty, req.prior_state.as_ref(), "prior state")?;
            let proposed = decode(&ty, req.proposed_new_state.as_ref(), "proposed state")?;
            if proposed.is_null() {
                return Ok((encode(&ty, &Value::Null, "plan")?, Vec::new(), None));
            }
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let generic = plan::plan(&schema, &prior, &proposed, &config);
            // Before configure (a configuration whose provider block waits
            // on unknown values), a resource plans without its data.
            let data = self.data().ok();
            let planned = r
                .plan(data.as_deref(), generic.planned, &prior, &config)
                .await?;
            let identity = identity_of(r.identity(), &planned)?;
            Ok((
                encode(&ty, &planned, "plan")?,
                generic.requires_replace,
                identity,
            ))
        }
        .await;
        let diagnostics = diags_of(&result);
        let (planned_state, requires_replace, planned_identity) = match result {
            Ok((p, rr, identity)) => (
                Some(p),
                rr.iter().map(AttributePath::to_proto).collect(),
                identity,
            ),
            Err(_) => (None, Vec::new(), None),
        };
        pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private: req.prior_private,
            diagnostics,
            legacy_type_system: false,
            deferred: None,
            planned_identity,
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
            Ok((
                encode(&ty, &new_state, "new state")?,
                identity_of(r.identity(), &new_state)?,
            ))
        }
        .await;
        let diagnostics = diags_of(&result);
        let (new_state, new_identity) = split(result);
        pb::apply_resource_change::Response {
            new_state,
            private: req.planned_private,
            diagnostics,
            legacy_type_system: false,
            new_identity,
        }
    }

    pub(crate) async fn import_resource_state(
        &self,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let result = async {
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            // `import { identity = ... }` sends an identity and no id.
            let id = match (req.id.is_empty(), r.identity()) {
                (true, Some(identity)) => {
                    identity.import_id(&identity.decode(req.identity.as_ref())?)?
                }
                _ => req.id.clone(),
            };
            let data = self.data()?;
            let state = self.until_stopped(r.import(&data, &id)).await?;
            Ok((
                encode(&r.schema().value_type(), &state, "imported state")?,
                identity_of(r.identity(), &state)?,
            ))
        }
        .await;
        let diagnostics = diags_of(&result);
        pb::import_resource_state::Response {
            imported_resources: result
                .ok()
                .map(
                    |(state, identity)| pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(state),
                        private: Vec::new(),
                        identity,
                    },
                )
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

/// The identity of the object `state` describes, for a resource that has
/// one; none for no object, and none while any part is unknown (a create's
/// plan), since Terraform takes a planned identity as final.
fn identity_of(
    identity: Option<Identity>,
    state: &Value,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    let Some(identity) = identity else {
        return Ok(None);
    };
    let value = identity.of_state(state);
    if value.is_null() || !value.is_wholly_known() {
        return Ok(None);
    }
    identity.encode(&value).map(Some)
}

/// A state and identity answer, or neither.
fn split<T>(
    result: Result<(T, Option<pb::ResourceIdentityData>), Diagnostics>,
) -> (Option<T>, Option<pb::ResourceIdentityData>) {
    match result {
        Ok((state, identity)) => (Some(state), identity),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{
        HANG, calls, configured, dv, obj, service, summaries, thing_schema, value_of,
    };
    use super::*;
    use crate::value::Number;

    const TYPE: &str = "fake_thing";

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    /// A `fake_thing` with every attribute, as the server decodes it.
    fn thing(id: Value, name: &str, tier: Value, zone: Value) -> Value {
        obj(&[
            ("id", id),
            ("name", s(name)),
            ("tier", tier),
            ("zone", zone),
            ("size", Value::Null),
        ])
    }

    /// One created `fake_thing` in zone `z1`.
    fn stored() -> Value {
        thing(s("id-a"), "a", s("standard"), s("z1"))
    }

    fn some_dv(v: &Value) -> Option<pb::DynamicValue> {
        Some(dv(&thing_schema(), v))
    }

    #[tokio::test]
    async fn unknown_type_is_reported_by_every_rpc() {
        let svc = configured().await;
        let name = || "nope".to_string();
        let cases = [
            (
                "validate",
                svc.validate_resource_config(pb::validate_resource_config::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .diagnostics,
            ),
            (
                "upgrade",
                svc.upgrade_resource_state(pb::upgrade_resource_state::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .diagnostics,
            ),
            (
                "read",
                svc.read_resource(pb::read_resource::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "plan",
                svc.plan_resource_change(pb::plan_resource_change::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "apply",
                svc.apply_resource_change(pb::apply_resource_change::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "import",
                svc.import_resource_state(pb::import_resource_state::Request {
                    type_name: name(),
                    id: "x".into(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
        ];
        for (rpc, diags) in cases {
            assert_eq!(summaries(&diags), ["Unknown resource type"], "{rpc}");
            assert_eq!(
                diags[0].detail,
                "This provider has no resource type \"nope\". Check the spelling and the \
                 provider version.",
                "{rpc}"
            );
        }
        assert!(calls(&svc).is_empty());
    }

    #[tokio::test]
    async fn calls_before_configure_are_reported() {
        let svc = service();
        let ty = || TYPE.to_string();
        let cases = [
            (
                "read",
                svc.read_resource(pb::read_resource::Request {
                    type_name: ty(),
                    current_state: some_dv(&stored()),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "apply",
                svc.apply_resource_change(pb::apply_resource_change::Request {
                    type_name: ty(),
                    planned_state: some_dv(&stored()),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "import",
                svc.import_resource_state(pb::import_resource_state::Request {
                    type_name: ty(),
                    id: "x".into(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
        ];
        for (rpc, diags) in cases {
            assert_eq!(summaries(&diags), ["Provider not configured"], "{rpc}");
        }
    }

    #[test]
    fn validate_rejects_computed_values_then_applies_the_types_rules() {
        let cases = [
            (
                "valid",
                obj(&[("name", s("a")), ("tier", s("gold"))]),
                vec![],
            ),
            (
                "computed-only id configured",
                obj(&[("id", s("x")), ("name", s("a"))]),
                vec![("Value for unconfigurable attribute", Some("id"))],
            ),
            (
                "type's own rule",
                obj(&[("name", s(""))]),
                vec![("Empty name", Some("name"))],
            ),
            (
                "both, computed first",
                obj(&[("id", s("x")), ("name", s(""))]),
                vec![
                    ("Value for unconfigurable attribute", Some("id")),
                    ("Empty name", Some("name")),
                ],
            ),
        ];
        for (name, config, want) in cases {
            let got = service().validate_resource_config(pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: some_dv(&config),
                ..Default::default()
            });
            let got: Vec<_> = got
                .diagnostics
                .iter()
                .map(|d| {
                    let path = d.attribute.as_ref().map(AttributePath::from_proto);
                    (d.summary.as_str(), path)
                })
                .collect();
            let want: Vec<_> = want
                .into_iter()
                .map(|(summary, path)| (summary, path.map(AttributePath::attr)))
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn upgrade_state_is_lossless_drops_removed_attributes_and_fills_defaults() {
        /// The upgraded state, or the summary of the diagnostic.
        type Want = Result<Value, &'static str>;
        let big = {
            let mut v = stored();
            if let Value::Object(m) = &mut v {
                m.insert(
                    "size".into(),
                    Value::Number(Number::parse("18446744073709551617").unwrap()),
                );
            }
            v
        };
        let cases: [(&str, i64, &[u8], Want); 7] = [
            (
                "current version, a number beyond u64 kept exactly",
                1,
                br#"{"id":"id-a","name":"a","tier":"standard","zone":"z1","size":18446744073709551617}"#,
                Ok(big),
            ),
            (
                "version 0: a null that now has a default gets it",
                0,
                br#"{"id":"id-a","name":"a","tier":null,"zone":"z1"}"#,
                Ok(stored()),
            ),
            (
                "an attribute the schema no longer has is dropped",
                1,
                br#"{"id":"id-a","legacy":{"nested":[1]},"name":"a","tier":"standard","zone":"z1"}"#,
                Ok(stored()),
            ),
            ("nothing stored", 1, b"", Ok(Value::Null)),
            ("not JSON", 1, b"name=a", Err("Unreadable stored state")),
            (
                "from a newer provider",
                2,
                br#"{"name":"a"}"#,
                Err("State from a newer provider"),
            ),
            (
                "not the schema's shape",
                1,
                br#"{"name":{"first":"a"}}"#,
                Err("Unreadable stored state"),
            ),
        ];
        for (name, version, json, want) in cases {
            let got = service().upgrade_resource_state(pb::upgrade_resource_state::Request {
                type_name: TYPE.into(),
                version,
                raw_state: Some(pb::RawState {
                    json: json.to_vec(),
                    ..Default::default()
                }),
            });
            let got = match got.upgraded_state {
                Some(state) => {
                    assert!(got.diagnostics.is_empty(), "{name}");
                    Ok(value_of(&thing_schema(), Some(&state)))
                }
                None => Err(summaries(&got.diagnostics).join(", ")),
            };
            assert_eq!(got, want.map_err(str::to_string), "{name}");
        }
    }

    #[tokio::test]
    async fn read_returns_the_resources_answer_and_keeps_private() {
        let svc = configured().await;
        let got = svc
            .read_resource(pb::read_resource::Request {
                type_name: TYPE.into(),
                current_state: some_dv(&stored()),
                private: b"p".to_vec(),
                ..Default::default()
            })
            .await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        assert_eq!(value_of(&thing_schema(), got.new_state.as_ref()), stored());
        assert_eq!(got.private, b"p");
        assert_eq!(calls(&svc), ["read"]);
    }

    async fn plan(
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> pb::plan_resource_change::Response {
        service()
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: TYPE.into(),
                prior_state: some_dv(prior),
                proposed_new_state: some_dv(proposed),
                config: some_dv(config),
                prior_private: b"pp".to_vec(),
                ..Default::default()
            })
            .await
    }

    #[tokio::test]
    async fn plan_create_leaves_computed_values_unknown() {
        let config = obj(&[("name", s("a"))]);
        let got = plan(&Value::Null, &config, &config).await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        assert_eq!(
            value_of(&thing_schema(), got.planned_state.as_ref()),
            thing(Value::unknown(), "a", s("standard"), Value::Null)
        );
        assert!(got.requires_replace.is_empty());
        assert_eq!(got.planned_private, b"pp");
    }

    #[tokio::test]
    async fn plan_of_a_changed_requires_replace_attribute_lists_it() {
        let proposed = thing(s("id-a"), "a", s("standard"), s("z2"));
        let config = obj(&[("name", s("a")), ("zone", s("z2"))]);
        let got = plan(&stored(), &proposed, &config).await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        assert_eq!(
            got.requires_replace,
            [AttributePath::attr("zone").to_proto()]
        );
    }

    #[tokio::test]
    async fn plan_of_a_destroy_is_null() {
        let got = plan(&stored(), &Value::Null, &Value::Null).await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        let planned = got.planned_state.expect("a planned state");
        assert_eq!(value_of(&thing_schema(), Some(&planned)), Value::Null);
        assert!(got.requires_replace.is_empty());
    }

    #[tokio::test]
    async fn apply_routes_to_create_update_or_delete() {
        let planned_create = thing(Value::unknown(), "a", s("standard"), s("z1"));
        let planned_update = thing(s("id-a"), "b", s("standard"), s("z1"));
        let cases = [
            ("create", Value::Null, planned_create, stored()),
            (
                "update",
                stored(),
                planned_update.clone(),
                planned_update.clone(),
            ),
            ("delete", stored(), Value::Null, Value::Null),
        ];
        for (op, prior, planned, want) in cases {
            let svc = configured().await;
            let got = svc
                .apply_resource_change(pb::apply_resource_change::Request {
                    type_name: TYPE.into(),
                    prior_state: some_dv(&prior),
                    planned_state: some_dv(&planned),
                    planned_private: b"pp".to_vec(),
                    ..Default::default()
                })
                .await;
            assert!(got.diagnostics.is_empty(), "{op}: {:?}", got.diagnostics);
            assert_eq!(calls(&svc), [op]);
            assert_eq!(
                value_of(&thing_schema(), got.new_state.as_ref()),
                want,
                "{op}"
            );
            assert_eq!(got.private, b"pp", "{op}");
        }
    }

    #[tokio::test]
    async fn stop_cancels_an_apply_in_flight() {
        let svc = configured().await;
        let planned = thing(Value::unknown(), HANG, Value::unknown(), Value::Null);
        let apply = svc.apply_resource_change(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            planned_state: some_dv(&planned),
            ..Default::default()
        });
        let stop = async {
            svc.data.get().unwrap().hanging.notified().await;
            svc.stop_provider(Default::default());
        };
        let (got, ()) =
            tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(apply, stop) })
                .await
                .expect("the stop ends the apply");
        assert_eq!(summaries(&got.diagnostics), ["Operation cancelled"]);
        assert_eq!(got.new_state, None);
        assert_eq!(calls(&svc), ["create"]);
    }

    #[tokio::test]
    async fn import_answers_one_resource_of_the_requested_type() {
        let svc = configured().await;
        let got = svc
            .import_resource_state(pb::import_resource_state::Request {
                type_name: TYPE.into(),
                id: "id-x".into(),
                ..Default::default()
            })
            .await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        let [imported] = got.imported_resources.as_slice() else {
            panic!("one imported resource: {:?}", got.imported_resources);
        };
        assert_eq!(imported.type_name, TYPE);
        assert_eq!(
            value_of(&thing_schema(), imported.state.as_ref()),
            thing(s("id-x"), "imported", Value::Null, Value::Null)
        );
    }

    #[test]
    fn identity_and_move_are_refused() {
        let svc = service();
        assert_eq!(
            svc.get_resource_identity_schemas(Default::default()),
            Default::default()
        );
        let identity = svc.upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: TYPE.into(),
            ..Default::default()
        });
        assert_eq!(
            summaries(&identity.diagnostics),
            ["Resource identity not supported"]
        );
        assert_eq!(identity.upgraded_identity, None);
        let moved = svc.move_resource_state(pb::move_resource_state::Request {
            source_type_name: "other_thing".into(),
            source_provider_address: "example.com/x/other".into(),
            target_type_name: TYPE.into(),
            ..Default::default()
        });
        assert_eq!(summaries(&moved.diagnostics), ["Move not supported"]);
        assert_eq!(
            moved.diagnostics[0].detail,
            "fake_thing cannot be moved from other_thing (example.com/x/other): remove the old \
             object from state and import it under the new address instead."
        );
        assert_eq!(moved.target_state, None);
    }
}
