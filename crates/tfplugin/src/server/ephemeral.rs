//! Ephemeral resources: ValidateEphemeralResourceConfig, then Open, Renew
//! and Close within one Terraform command.

use super::{ProviderService, decode, diags_of, encode, lookup, validate_config};
use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_ephemeral_resource_config(
        &self,
        req: pb::validate_ephemeral_resource_config::Request,
    ) -> pb::validate_ephemeral_resource_config::Response {
        let result = lookup(
            &self.registry.ephemeral_resources,
            "ephemeral resource",
            &req.type_name,
        )
        .and_then(|e| validate_config(&e.schema(), req.config.as_ref(), |c| e.validate(c)));
        pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    pub(crate) async fn open_ephemeral_resource(
        &self,
        req: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
        let result = async {
            let e = lookup(
                &self.registry.ephemeral_resources,
                "ephemeral resource",
                &req.type_name,
            )?;
            let ty = e.schema().value_type();
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let data = self.data()?;
            let opened = self.until_stopped(e.open(&data, &config)).await?;
            Ok::<_, Diagnostics>((encode(&ty, &opened.result, "ephemeral result")?, opened))
        }
        .await;
        match result {
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
        }
    }

    pub(crate) async fn renew_ephemeral_resource(
        &self,
        req: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let result = async {
            let e = lookup(
                &self.registry.ephemeral_resources,
                "ephemeral resource",
                &req.type_name,
            )?;
            let data = self.data()?;
            self.until_stopped(e.renew(&data, req.private.as_deref().unwrap_or_default()))
                .await
        }
        .await;
        match result {
            Ok((renew_at, private)) => pb::renew_ephemeral_resource::Response {
                diagnostics: Vec::new(),
                renew_at: renew_at.map(prost_types::Timestamp::from),
                private: Some(private),
            },
            Err(d) => pb::renew_ephemeral_resource::Response {
                diagnostics: d.to_proto(),
                ..Default::default()
            },
        }
    }

    pub(crate) async fn close_ephemeral_resource(
        &self,
        req: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let result = async {
            let e = lookup(
                &self.registry.ephemeral_resources,
                "ephemeral resource",
                &req.type_name,
            )?;
            let data = self.data()?;
            self.until_stopped(e.close(&data, req.private.as_deref().unwrap_or_default()))
                .await
        }
        .await;
        pb::close_ephemeral_resource::Response {
            diagnostics: diags_of(&result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        calls, configured, dv, obj, renew_at, service, summaries, value_of,
    };
    use super::*;
    use crate::diag::AttributePath;
    use crate::schema::Schema;
    use crate::value::Value;

    const TYPE: &str = "fake_token";

    fn schema() -> Schema {
        service().registry.ephemeral_resources[TYPE].schema()
    }

    fn scope(scope: &str) -> Option<pb::DynamicValue> {
        Some(dv(&schema(), &obj(&[("scope", Value::string(scope))])))
    }

    #[tokio::test]
    async fn unknown_type_is_reported_by_every_rpc() {
        let svc = configured().await;
        let name = || "nope".to_string();
        let cases = [
            (
                "validate",
                svc.validate_ephemeral_resource_config(
                    pb::validate_ephemeral_resource_config::Request {
                        type_name: name(),
                        config: None,
                    },
                )
                .diagnostics,
            ),
            (
                "open",
                svc.open_ephemeral_resource(pb::open_ephemeral_resource::Request {
                    type_name: name(),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "renew",
                svc.renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
                    type_name: name(),
                    private: None,
                })
                .await
                .diagnostics,
            ),
            (
                "close",
                svc.close_ephemeral_resource(pb::close_ephemeral_resource::Request {
                    type_name: name(),
                    private: None,
                })
                .await
                .diagnostics,
            ),
        ];
        for (rpc, diags) in cases {
            assert_eq!(
                summaries(&diags),
                ["Unknown ephemeral resource type"],
                "{rpc}"
            );
        }
        assert!(calls(&svc).is_empty());
    }

    #[tokio::test]
    async fn calls_before_configure_are_reported() {
        let svc = service();
        let private = || Some(b"s".to_vec());
        let cases = [
            (
                "open",
                svc.open_ephemeral_resource(pb::open_ephemeral_resource::Request {
                    type_name: TYPE.into(),
                    config: scope("s"),
                    ..Default::default()
                })
                .await
                .diagnostics,
            ),
            (
                "renew",
                svc.renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
                    type_name: TYPE.into(),
                    private: private(),
                })
                .await
                .diagnostics,
            ),
            (
                "close",
                svc.close_ephemeral_resource(pb::close_ephemeral_resource::Request {
                    type_name: TYPE.into(),
                    private: private(),
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
    fn validate_rejects_a_configured_computed_attribute() {
        let config = obj(&[("scope", Value::string("s")), ("token", Value::string("t"))]);
        let got = service().validate_ephemeral_resource_config(
            pb::validate_ephemeral_resource_config::Request {
                type_name: TYPE.into(),
                config: Some(dv(&schema(), &config)),
            },
        );
        assert_eq!(
            summaries(&got.diagnostics),
            ["Value for unconfigurable attribute"]
        );
        assert_eq!(
            got.diagnostics[0].attribute,
            Some(AttributePath::attr("token").to_proto())
        );
    }

    /// Open, renew and close pass the private state along as Terraform does.
    #[tokio::test]
    async fn open_renew_close() {
        let svc = configured().await;
        let opened = svc
            .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
                type_name: TYPE.into(),
                config: scope("s"),
                ..Default::default()
            })
            .await;
        assert!(opened.diagnostics.is_empty(), "{:?}", opened.diagnostics);
        assert_eq!(
            value_of(&schema(), opened.result.as_ref()),
            obj(&[
                ("scope", Value::string("s")),
                ("token", Value::string("token-s"))
            ])
        );
        assert_eq!(opened.renew_at, Some(renew_at().into()));
        assert_eq!(opened.private.as_deref(), Some(&b"s"[..]));

        let renewed = svc
            .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
                type_name: TYPE.into(),
                private: opened.private.clone(),
            })
            .await;
        assert!(renewed.diagnostics.is_empty(), "{:?}", renewed.diagnostics);
        assert_eq!(renewed.renew_at, None);
        assert_eq!(renewed.private, opened.private);

        let closed = svc
            .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
                type_name: TYPE.into(),
                private: renewed.private,
            })
            .await;
        assert!(closed.diagnostics.is_empty(), "{:?}", closed.diagnostics);
        assert_eq!(calls(&svc), ["open", "close:s"]);
    }
}
