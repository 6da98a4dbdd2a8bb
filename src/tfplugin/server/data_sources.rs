//! Data sources: ValidateDataResourceConfig and ReadDataSource.

use super::{ProviderService, decode, diags_of, encode, lookup, validate_config};
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;

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
        let result = async {
            let d = lookup(&self.registry.data_sources, "data source", &req.type_name)?;
            let ty = d.schema().value_type();
            let config = decode(&ty, req.config.as_ref(), "configuration")?;
            let data = self.data()?;
            let state = self.until_stopped(d.read(&data, &config)).await?;
            encode(&ty, &state, "data source result")
        }
        .await;
        let diagnostics = diags_of(&result);
        pb::read_data_source::Response {
            state: result.ok(),
            diagnostics,
            deferred: None,
        }
    }
}
