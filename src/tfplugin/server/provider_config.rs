//! The provider's own lifecycle: ValidateProviderConfig, ConfigureProvider
//! (which makes the configured data every later call needs) and
//! StopProvider (which cancels whatever is in flight).

use std::sync::Arc;

use super::{ProviderService, decode, diags_of};
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;

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
        pb::configure_provider::Response {
            diagnostics: diags_of(&result),
        }
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
