//! `data "deputy_account"`: the broker's account name and AWS principal.

use async_trait::async_trait;

use super::super::connection::BrokerConnection;
use super::super::values::{object, text};
use tfplugin::data_source::DataSource;
use tfplugin::diag::Diagnostics;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{Type, Value};

pub struct AccountDataSource;

#[async_trait]
impl DataSource<BrokerConnection> for AccountDataSource {
    fn type_name(&self) -> &'static str {
        "deputy_account"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "The broker's account: its name (the first field of every External ID) and the AWS \
             principal that customer trust policies must allow.",
            vec![
                Attribute::computed("name", Type::String, "Account name."),
                Attribute::computed(
                    "aws_principal_arn",
                    Type::String,
                    "The AWS principal deputy runs as; trust policies name it as `Principal.AWS`.",
                ),
            ],
        )
    }

    async fn read(
        &self,
        broker: &BrokerConnection,
        _config: &Value,
        _warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        let a = broker.account().await?;
        Ok(object([
            ("name", text(a.name.as_str())),
            ("aws_principal_arn", text(a.aws_principal_arn.as_str())),
        ]))
    }
}
