//! What the provider offers: GetMetadata, GetProviderSchema, GetFunctions,
//! and the server capabilities advertised with them. All answered from the
//! registry and schemas alone, before and without configuration.

use super::ProviderService;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;

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
            list_resources: self
                .registry
                .list_resources
                .keys()
                .map(|n| m::ListResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            actions: self
                .registry
                .actions
                .keys()
                .map(|n| m::ActionMetadata {
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
            list_resource_schemas: r
                .list_resources
                .iter()
                .map(|(n, x)| (n.to_string(), x.schema().to_proto()))
                .collect(),
            action_schemas: r
                .actions
                .iter()
                .map(|(n, x)| {
                    (
                        n.to_string(),
                        pb::ActionSchema {
                            schema: Some(x.schema().to_proto()),
                        },
                    )
                })
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

#[cfg(test)]
mod tests {
    use super::super::testing::service;
    use super::*;

    /// Protobuf maps are hash maps: their order is not the registry's.
    fn sorted<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
        let mut keys: Vec<_> = keys.map(String::as_str).collect();
        keys.sort();
        keys
    }

    #[test]
    fn schema_lists_every_registered_type() {
        let s = service().get_provider_schema(Default::default());
        assert!(s.diagnostics.is_empty());
        assert!(s.provider.is_some());
        assert_eq!(sorted(s.resource_schemas.keys()), ["fake_thing"]);
        assert_eq!(sorted(s.data_source_schemas.keys()), ["fake_lookup"]);
        assert_eq!(sorted(s.functions.keys()), ["join"]);
        assert_eq!(sorted(s.ephemeral_resource_schemas.keys()), ["fake_token"]);
        assert_eq!(s.server_capabilities, Some(capabilities()));
    }

    #[test]
    fn metadata_and_functions_name_the_same_types() {
        let m = service().get_metadata(Default::default());
        let names = (
            m.resources
                .iter()
                .map(|r| r.type_name.as_str())
                .collect::<Vec<_>>(),
            m.data_sources
                .iter()
                .map(|d| d.type_name.as_str())
                .collect::<Vec<_>>(),
            m.functions
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            m.ephemeral_resources
                .iter()
                .map(|e| e.type_name.as_str())
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            names,
            (
                vec!["fake_thing"],
                vec!["fake_lookup"],
                vec!["join"],
                vec!["fake_token"]
            )
        );
        assert_eq!(m.server_capabilities, Some(capabilities()));

        let f = service().get_functions(Default::default());
        assert_eq!(sorted(f.functions.keys()), ["join"]);
        assert!(f.diagnostics.is_empty());
    }
}
