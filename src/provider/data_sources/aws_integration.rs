//! `data "deputy_aws_integration"`: one integration, by `id` or `name`.

use async_trait::async_trait;

use super::super::connection::{BrokerConnection, to_diags};
use super::super::resources::{integration_attributes, integration_state};
use super::super::values::{nullable, string};
use tfplugin::data_source::DataSource;
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AwsIntegrationDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for AwsIntegrationDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_aws_integration"
    }

    fn schema(&self) -> Schema {
        let mut attributes = integration_attributes(true);
        for a in attributes
            .iter_mut()
            .filter(|a| a.name == "id" || a.name == "name")
        {
            *a = Attribute::optional_computed(
                a.name,
                Type::String,
                if a.name == "id" {
                    "The integration's id. Set exactly one of `id` and `name`."
                } else {
                    "The integration's unique name. Set exactly one of `id` and `name`."
                },
            );
        }
        attributes.push(Attribute::computed(
            "last_verified_at",
            Type::String,
            "When the role was last verified (RFC 3339), if ever. Attaching a stack re-verifies.",
        ));
        attributes.push(Attribute::computed(
            "verification_state",
            Type::String,
            "Whether the integration's current configuration may vend: `verified` (its role passed \
             verification), `failed` (the last verification failed: nothing vends until one passes) \
             or `unverified` (never verified since it last changed).",
        ));
        Schema::new(
            0,
            "An AWS integration, looked up by id or by name.",
            attributes,
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let (id, name) = (config.get("id"), config.get("name"));
        if id.is_null() == name.is_null() && !id.is_unknown() && !name.is_unknown() {
            return Diagnostic::error(
                "Set exactly one of id and name",
                "Look the integration up either by `id` or by `name`, not both and not neither.",
            )
            .into();
        }
        Diagnostics::new()
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let client = broker.client()?;
        let found = match (string(config, "id"), string(config, "name")) {
            (Some(id), _) => client
                .integration(&id)
                .await
                .map_err(|e| to_diags(e, Some(AttributePath::attr("id"))))?,
            (None, Some(name)) => client
                .integration_by_name(&name)
                .await
                .map_err(|e| to_diags(e, Some(AttributePath::attr("name"))))?,
            (None, None) => return Err(self.validate(config)),
        };
        let verification_state = found.verification_state.as_str();
        let last_verified_at = nullable(&found.last_verified_at);
        let mut state = integration_state(found);
        if let Value::Object(m) = &mut state {
            m.insert("last_verified_at".into(), last_verified_at);
            m.insert(
                "verification_state".into(),
                Value::string(verification_state),
            );
        }
        Ok(state)
    }
}
