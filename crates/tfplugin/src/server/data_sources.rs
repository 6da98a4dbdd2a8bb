//! Data sources: ValidateDataResourceConfig and ReadDataSource.

use super::{ProviderService, decode, diags_of, encode, lookup, validate_config};
use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_data_resource_config(
        &self,
        req: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        let result = lookup(&self.registry.data_sources, "data source", &req.type_name)
            .and_then(|d| validate_config(&d.schema(), req.config.as_ref(), |c| d.validate(c)));
        pb::validate_data_resource_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    pub(crate) async fn read_data_source(
        &self,
        req: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let mut warnings = Diagnostics::new();
        let result = async {
            let d = lookup(&self.registry.data_sources, "data source", &req.type_name)?;
            let ty = d.schema().value_type();
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let data = self.data()?;
            let state = self
                .until_stopped(d.read(&data, &config, &mut warnings))
                .await?;
            encode(&ty, &state, "data source result")
        }
        .await;
        let mut diagnostics = warnings.to_proto();
        diagnostics.extend(diags_of(&result));
        pb::read_data_source::Response {
            state: result.ok(),
            diagnostics,
            deferred: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{calls, configured, dv, obj, service, summaries, value_of};
    use super::*;
    use crate::diag::AttributePath;
    use crate::schema::Schema;
    use crate::value::Value;

    const TYPE: &str = "fake_lookup";

    fn schema() -> Schema {
        service().registry.data_sources[TYPE].schema()
    }

    fn config(attrs: &[(&str, Value)]) -> Option<pb::DynamicValue> {
        Some(dv(&schema(), &obj(attrs)))
    }

    #[tokio::test]
    async fn unknown_type_is_reported_by_every_rpc() {
        let svc = configured().await;
        let cases = [
            (
                "validate",
                svc.validate_data_resource_config(pb::validate_data_resource_config::Request {
                    type_name: "nope".into(),
                    config: None,
                })
                .diagnostics,
            ),
            (
                "read",
                svc.read_data_source(pb::read_data_source::Request {
                    type_name: "nope".into(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
        ];
        for (rpc, diags) in cases {
            assert_eq!(summaries(&diags), ["Unknown data source type"], "{rpc}");
            assert_eq!(
                diags[0].detail,
                "This provider has no data source type \"nope\". Check the spelling and the \
                 provider version.",
                "{rpc}"
            );
        }
    }

    #[test]
    fn validate_rejects_a_configured_computed_attribute() {
        let got =
            service().validate_data_resource_config(pb::validate_data_resource_config::Request {
                type_name: TYPE.into(),
                config: config(&[("key", Value::string("k")), ("value", Value::string("v"))]),
            });
        assert_eq!(
            summaries(&got.diagnostics),
            ["Value for unconfigurable attribute"]
        );
        assert_eq!(
            got.diagnostics[0].attribute,
            Some(AttributePath::attr("value").to_proto())
        );
    }

    #[tokio::test]
    async fn read_needs_a_configured_provider() {
        let got = service()
            .read_data_source(pb::read_data_source::Request {
                type_name: TYPE.into(),
                config: config(&[("key", Value::string("k"))]),
                ..Default::default()
            })
            .await;
        assert_eq!(summaries(&got.diagnostics), ["Provider not configured"]);
        assert_eq!(got.state, None);
    }

    #[tokio::test]
    async fn read_returns_the_data_sources_answer() {
        let svc = configured().await;
        let got = svc
            .read_data_source(pb::read_data_source::Request {
                type_name: TYPE.into(),
                config: config(&[("key", Value::string("k"))]),
                ..Default::default()
            })
            .await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        assert_eq!(
            value_of(&schema(), got.state.as_ref()),
            obj(&[("key", Value::string("k")), ("value", Value::string("K"))])
        );
        assert_eq!(calls(&svc), ["read"]);
    }

    #[tokio::test]
    async fn warnings_come_with_the_result() {
        let svc = configured().await;
        let got = svc
            .read_data_source(pb::read_data_source::Request {
                type_name: TYPE.into(),
                config: config(&[("key", Value::string("missing"))]),
                ..Default::default()
            })
            .await;
        assert_eq!(summaries(&got.diagnostics), ["Key not registered"]);
        assert_eq!(
            got.diagnostics[0].severity,
            pb::diagnostic::Severity::Warning as i32
        );
        assert_eq!(
            value_of(&schema(), got.state.as_ref()).get("value"),
            &Value::string("MISSING")
        );
    }
}
