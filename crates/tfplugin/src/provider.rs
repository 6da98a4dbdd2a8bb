//! The provider itself: its configuration and the registry of everything it
//! offers. The gRPC service in [`super::server`] dispatches to these.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::action::Action;
use super::data_source::DataSource;
use super::diag::Diagnostics;
use super::ephemeral::EphemeralResource;
use super::function::Function;
use super::list_resource::ListResource;
use super::resource::Resource;
use super::schema::Schema;
use super::value::Value;

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What resources and data sources need once the provider is configured
    /// (deputy: the broker client).
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;

    /// Checks provider configuration beyond types; skip unknown values.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds the configured data. `terraform_version` is informational;
    /// `warnings` go to Terraform beside a successful configuration.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
        warnings: &mut Diagnostics,
    ) -> Result<Self::Data, Diagnostics>;

    fn registry(&self) -> Registry<Self::Data>;
}

/// Everything a provider offers, by Terraform type name.
pub struct Registry<D: Sync> {
    pub resources: BTreeMap<&'static str, Arc<dyn Resource<D>>>,
    pub data_sources: BTreeMap<&'static str, Arc<dyn DataSource<D>>>,
    pub functions: BTreeMap<&'static str, Arc<dyn Function>>,
    pub ephemeral_resources: BTreeMap<&'static str, Arc<dyn EphemeralResource<D>>>,
    pub list_resources: BTreeMap<&'static str, Arc<dyn ListResource<D>>>,
    pub actions: BTreeMap<&'static str, Arc<dyn Action<D>>>,
}

impl<D: Sync> Default for Registry<D> {
    fn default() -> Self {
        Registry {
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            functions: BTreeMap::new(),
            ephemeral_resources: BTreeMap::new(),
            list_resources: BTreeMap::new(),
            actions: BTreeMap::new(),
        }
    }
}

impl<D: Sync> Registry<D> {
    pub fn resource(mut self, r: impl Resource<D>) -> Self {
        self.resources.insert(r.type_name(), Arc::new(r));
        self
    }

    pub fn data_source(mut self, d: impl DataSource<D>) -> Self {
        self.data_sources.insert(d.type_name(), Arc::new(d));
        self
    }

    pub fn function(mut self, f: impl Function) -> Self {
        self.functions.insert(f.name(), Arc::new(f));
        self
    }

    pub fn ephemeral_resource(mut self, e: impl EphemeralResource<D>) -> Self {
        self.ephemeral_resources.insert(e.type_name(), Arc::new(e));
        self
    }

    pub fn list_resource(mut self, l: impl ListResource<D>) -> Self {
        self.list_resources.insert(l.type_name(), Arc::new(l));
        self
    }

    pub fn action(mut self, a: impl Action<D>) -> Self {
        self.actions.insert(a.type_name(), Arc::new(a));
        self
    }
}
