//! What the provider offers: GetMetadata, GetProviderSchema, GetFunctions,
//! and the server capabilities advertised with them. All answered from the
//! registry and schemas alone, before and without configuration.

use super::ProviderService;
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::provider::Provider;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn get_metadata(&self, _: pb::get_metadata::Request) -> pb::get_metadata::Response {
        use pb::get_metadata as m;
        m::Response {
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
        }
    }

    pub(crate) fn get_provider_schema(
        &self,
        _: pb::get_provider_schema::Request,
    ) -> pb::get_provider_schema::Response {
        let r = &self.registry;
        pb::get_provider_schema::Response {
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
        }
    }

    pub(crate) fn get_functions(
        &self,
        _: pb::get_functions::Request,
    ) -> pb::get_functions::Response {
        pb::get_functions::Response {
            functions: self
                .registry
                .functions
                .iter()
                .map(|(n, f)| (n.to_string(), f.signature().to_proto()))
                .collect(),
            diagnostics: Vec::new(),
        }
    }
}

/// None of the optional protocol features: destroy plans are not needed (a
/// destroy has nothing to refine), Terraform always fetches the schema, and
/// moves between resource types are refused (see `move_resource_state`).
fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}
