//! List resources: ValidateListResourceConfig and ListResource (Terraform
//! 1.14 `terraform query`). Each object found goes out as one event with
//! the identity of the managed resource of the same type, and its state
//! when Terraform asks for it (to generate configuration).

use super::{ProviderService, decode, diags_of, encode, lookup, validate_config};
use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::value::{Type, wire};

/// What a `list` block without `limit` gets, as Terraform's own default.
const DEFAULT_LIMIT: usize = 100;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn validate_list_resource_config(
        &self,
        req: pb::validate_list_resource_config::Request,
    ) -> pb::validate_list_resource_config::Response {
        let result = lookup(
            &self.registry.list_resources,
            "list resource",
            &req.type_name,
        )
        .and_then(|l| validate_config(&l.schema(), req.config.as_ref(), |c| l.validate(c)))
        .and_then(|()| {
            let limit = wire::decode_dynamic(&Type::Number, req.limit.as_ref())
                .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid limit", e.message)))?;
            match limit.as_number().map(|n| n.as_i64()) {
                Some(Some(n)) if n < 1 => Err(Diagnostic::error(
                    "Invalid limit",
                    format!("limit is {n}; use a whole number of at least 1, or leave it out"),
                )
                .into()),
                _ => Ok(()),
            }
        });
        pb::validate_list_resource_config::Response {
            diagnostics: diags_of(&result),
        }
    }

    /// Every event of one listing; a failure is a single event carrying
    /// the diagnostics.
    pub(crate) async fn list_resource(
        &self,
        req: pb::list_resource::Request,
    ) -> Vec<pb::list_resource::Event> {
        let result = async {
            let l = lookup(
                &self.registry.list_resources,
                "list resource",
                &req.type_name,
            )?;
            let r = lookup(&self.registry.resources, "resource", &req.type_name)?;
            let Some(identity) = r.identity() else {
                return Err(Diagnostic::error(
                    "List resource without identity",
                    format!(
                        "{} has no resource identity, which `terraform query` needs. This is a \
                         bug in the provider.",
                        req.type_name
                    ),
                )
                .into());
            };
            let config = decode(
                &l.schema().value_type(),
                req.config.as_ref(),
                "configuration",
            )?;
            let limit = usize::try_from(req.limit)
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(DEFAULT_LIMIT);
            let data = self.data()?;
            let found = self.until_stopped(l.list(&data, &config, limit)).await?;
            let state_type = r.schema().value_type();
            found
                .into_iter()
                .take(limit)
                .map(|listed| {
                    Ok(pb::list_resource::Event {
                        identity: Some(identity.encode(&identity.of_state(&listed.state))?),
                        display_name: listed.display_name,
                        resource_object: if req.include_resource_object {
                            Some(encode(&state_type, &listed.state, "listed object")?)
                        } else {
                            None
                        },
                        diagnostic: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>, Diagnostics>>()
        }
        .await;
        match result {
            Ok(events) => events,
            Err(d) => vec![pb::list_resource::Event {
                diagnostic: d.to_proto(),
                ..Default::default()
            }],
        }
    }
}
