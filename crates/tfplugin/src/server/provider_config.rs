//! The provider's own lifecycle: ValidateProviderConfig, ConfigureProvider
//! (which makes the configured data every later call needs) and
//! StopProvider (which cancels whatever is in flight).

use std::sync::Arc;

use super::{ProviderService, decode, diags_of};
use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_provider_config(
        &self,
        req: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let schema = self.provider.schema();
        let result = decode(
            &schema.value_type(),
            req.config.as_ref(),
            "provider configuration",
        )
        .and_then(|config| {
            let diags = self.provider.validate(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        pb::validate_provider_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    pub(crate) async fn configure_provider(
        &self,
        req: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        tracing::debug!(terraform_version = %req.terraform_version, "configuring provider");
        let schema = self.provider.schema();
        let mut warnings = Diagnostics::new();
        let result = match decode(
            &schema.value_type(),
            req.config.as_ref(),
            "provider configuration",
        ) {
            Err(d) => Err(d),
            Ok(config) => self
                .until_stopped(self.provider.configure(
                    &config,
                    &req.terraform_version,
                    &mut warnings,
                ))
                .await
                .map(|data| {
                    let _ = self.data.set(Arc::new(data));
                }),
        };
        let mut diagnostics = warnings.to_proto();
        diagnostics.extend(diags_of(&result));
        pb::configure_provider::Response { diagnostics }
    }

    pub(crate) fn stop_provider(
        &self,
        _: pb::stop_provider::Request,
    ) -> pb::stop_provider::Response {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.stop.cancel();
        pb::stop_provider::Response::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HANG, dv, obj, service, summaries};
    use super::*;
    use crate::value::Value;

    fn provider_config(endpoint: &str) -> Option<pb::DynamicValue> {
        Some(dv(
            &service().provider.schema(),
            &obj(&[("endpoint", Value::string(endpoint))]),
        ))
    }

    /// Bytes no msgpack decoder accepts (0xc1 is never used).
    fn garbage() -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: vec![0xc1],
            json: Vec::new(),
        })
    }

    #[test]
    fn validate_runs_the_providers_rules() {
        let cases = [
            ("valid", provider_config("https://x"), vec![]),
            ("absent", None, vec![]),
            ("provider rule", provider_config(""), vec!["Empty endpoint"]),
            (
                "undecodable",
                garbage(),
                vec!["Invalid provider configuration"],
            ),
        ];
        for (name, config, want) in cases {
            let got = service()
                .validate_provider_config(pb::validate_provider_config::Request { config });
            assert_eq!(summaries(&got.diagnostics), want, "{name}");
        }
    }

    #[tokio::test]
    async fn configure_stores_the_data() {
        let s = service();
        assert!(s.data().is_err());
        let got = s
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.10.0".into(),
                config: provider_config("https://x"),
                ..Default::default()
            })
            .await;
        assert!(got.diagnostics.is_empty(), "{:?}", got.diagnostics);
        assert_eq!(s.data().unwrap().endpoint, "https://x");
    }

    #[tokio::test]
    async fn configure_reports_bad_configuration_and_stays_unconfigured() {
        let s = service();
        let got = s
            .configure_provider(pb::configure_provider::Request {
                config: garbage(),
                ..Default::default()
            })
            .await;
        assert_eq!(
            summaries(&got.diagnostics),
            ["Invalid provider configuration"]
        );
        assert!(s.data().is_err());
    }

    /// The fake's configure never finishes for this endpoint, so only the
    /// stop can end it.
    #[tokio::test]
    async fn stop_cancels_a_hanging_configure() {
        let s = service();
        s.stop_provider(Default::default());
        let got = s
            .configure_provider(pb::configure_provider::Request {
                config: provider_config(HANG),
                ..Default::default()
            })
            .await;
        assert_eq!(summaries(&got.diagnostics), ["Operation cancelled"]);
        assert!(s.data().is_err());
    }
}
