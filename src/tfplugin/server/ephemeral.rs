//! Ephemeral resources: ValidateEphemeralResourceConfig, then Open, Renew
//! and Close within one Terraform command.

use super::{ProviderService, decode, diags_of, encode, lookup, validate_config};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;

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
