//! A fake provider for the server's unit tests: one resource, data source,
//! function and ephemeral resource, each as small as the RPCs under test
//! allow, plus helpers to build requests and read answers without gRPC.
//!
//! The fakes record what the server asked of them in [`FakeData::calls`],
//! so tests can tell which operation a request was routed to.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::ProviderService;
use crate::data_source::DataSource;
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::ephemeral::{EphemeralResource, Opened};
use crate::function::{Function, FunctionError, Parameter, Signature};
use crate::proto::tfplugin6 as pb;
use crate::provider::{Provider, Registry};
use crate::resource::Resource;
use crate::schema::{Attribute, Schema};
use crate::value::{Type, Value, wire};

/// A provider endpoint, or a resource name, for which the fake's work never
/// finishes: only StopProvider ends it.
pub(super) const HANG: &str = "hang";

pub(super) struct FakeProvider;

pub(super) struct FakeData {
    pub(super) endpoint: String,
    /// Operations run, in order, such as `"create"` or `"close:scope"`.
    pub(super) calls: Mutex<Vec<String>>,
    /// Signalled when a create starts hanging, so a test stops it while it
    /// is in flight rather than before it began.
    pub(super) hanging: Notify,
}

impl FakeData {
    fn record(&self, call: impl Into<String>) {
        self.calls.lock().unwrap().push(call.into());
    }
}

#[async_trait]
impl Provider for FakeProvider {
    type Data = FakeData;

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "fake provider",
            vec![Attribute::optional("endpoint", Type::String, "where")],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        if config.get("endpoint").as_str() == Some("") {
            Diagnostic::error("Empty endpoint", "")
                .at(AttributePath::attr("endpoint"))
                .into()
        } else {
            Diagnostics::new()
        }
    }

    async fn configure(
        &self,
        config: &Value,
        _: &str,
        _: &mut Diagnostics,
    ) -> Result<FakeData, Diagnostics> {
        let endpoint = config.get("endpoint").as_str().unwrap_or_default();
        if endpoint == HANG {
            std::future::pending::<()>().await;
        }
        Ok(FakeData {
            endpoint: endpoint.to_string(),
            calls: Mutex::new(Vec::new()),
            hanging: Notify::new(),
        })
    }

    fn registry(&self) -> Registry<FakeData> {
        Registry::default()
            .resource(Thing)
            .data_source(Lookup)
            .function(Join)
            .ephemeral_resource(Token)
    }
}

/// `fake_thing`: an id the provider sets, a required name, a tier the
/// provider defaults, and a zone whose change replaces the object.
pub(super) struct Thing;

pub(super) fn thing_schema() -> Schema {
    Thing.schema()
}

/// Fills what the fake provider computes: the id from the name, the tier's
/// default.
fn computed(planned: &Value) -> Value {
    let mut v = planned.as_entries().cloned().unwrap_or_default();
    if v.get("id").is_none_or(Value::is_unknown) {
        let name = planned.get("name").as_str().unwrap_or_default();
        v.insert("id".into(), Value::string(format!("id-{name}")));
    }
    if v.get("tier").is_none_or(Value::is_unknown) {
        v.insert("tier".into(), Value::string("standard"));
    }
    Value::Object(v)
}

#[async_trait]
impl Resource<FakeData> for Thing {
    fn type_name(&self) -> &'static str {
        "fake_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            1,
            "a thing",
            vec![
                Attribute::computed("id", Type::String, "id").stable(),
                Attribute::required("name", Type::String, "name"),
                Attribute::optional_computed("tier", Type::String, "tier")
                    .default(Value::string("standard")),
                Attribute::optional("zone", Type::String, "zone").requires_replace(),
                Attribute::optional("size", Type::Number, "size"),
            ],
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        if config.get("name").as_str() == Some("") {
            Diagnostic::error("Empty name", "")
                .at(AttributePath::attr("name"))
                .into()
        } else {
            Diagnostics::new()
        }
    }

    async fn create(&self, data: &FakeData, planned: &Value) -> Result<Value, Diagnostics> {
        data.record("create");
        if planned.get("name").as_str() == Some(HANG) {
            data.hanging.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(computed(planned))
    }

    async fn read(&self, data: &FakeData, current: &Value) -> Result<Option<Value>, Diagnostics> {
        data.record("read");
        Ok(Some(current.clone()))
    }

    async fn update(
        &self,
        data: &FakeData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        data.record("update");
        Ok(computed(planned))
    }

    async fn delete(&self, data: &FakeData, _prior: &Value) -> Result<(), Diagnostics> {
        data.record("delete");
        Ok(())
    }

    async fn import(&self, data: &FakeData, id: &str) -> Result<Value, Diagnostics> {
        data.record("import");
        Ok(obj(&[
            ("id", Value::string(id)),
            ("name", Value::string("imported")),
        ]))
    }
}

/// `fake_lookup`: a required key, and its value in upper case.
pub(super) struct Lookup;

#[async_trait]
impl DataSource<FakeData> for Lookup {
    fn type_name(&self) -> &'static str {
        "fake_lookup"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "a lookup",
            vec![
                Attribute::required("key", Type::String, "key"),
                Attribute::computed("value", Type::String, "value"),
            ],
        )
    }

    /// The key `missing` still reads, with a warning.
    async fn read(
        &self,
        data: &FakeData,
        config: &Value,
        warnings: &mut Diagnostics,
    ) -> Result<Value, Diagnostics> {
        data.record("read");
        let key = config.get("key").as_str().unwrap_or_default();
        if key == "missing" {
            warnings.push(Diagnostic::warning("Key not registered", "derived anyway"));
        }
        Ok(obj(&[
            ("key", Value::string(key)),
            ("value", Value::string(key.to_uppercase())),
        ]))
    }
}

/// `join(a, b, rest...)`: concatenates strings; `a` must not be empty.
pub(super) struct Join;

impl Function for Join {
    fn name(&self) -> &'static str {
        "join"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("a", Type::String, "first"),
                Parameter::new("b", Type::String, "second"),
            ],
            variadic: Some(Parameter::new("rest", Type::String, "more")),
            returns: Type::String,
            summary: "join",
            description: "Joins strings.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        if args[0].as_str() == Some("") {
            return Err(FunctionError::argument(0, "must not be empty"));
        }
        Ok(Value::string(
            args.iter().filter_map(Value::as_str).collect::<String>(),
        ))
    }
}

/// `fake_token`: a required scope, a token made from it; the private state
/// is the scope, so renew and close can be checked to receive it back.
pub(super) struct Token;

/// When the fake asks to be renewed.
pub(super) fn renew_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000)
}

#[async_trait]
impl EphemeralResource<FakeData> for Token {
    fn type_name(&self) -> &'static str {
        "fake_token"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            "a token",
            vec![
                Attribute::required("scope", Type::String, "scope"),
                Attribute::computed("token", Type::String, "token").sensitive(),
            ],
        )
    }

    async fn open(&self, data: &FakeData, config: &Value) -> Result<Opened, Diagnostics> {
        data.record("open");
        let scope = config.get("scope").as_str().unwrap_or_default();
        Ok(Opened {
            result: obj(&[
                ("scope", Value::string(scope)),
                ("token", Value::string(format!("token-{scope}"))),
            ]),
            renew_at: Some(renew_at()),
            private: scope.as_bytes().to_vec(),
        })
    }

    async fn close(&self, data: &FakeData, private: &[u8]) -> Result<(), Diagnostics> {
        data.record(format!("close:{}", String::from_utf8_lossy(private)));
        Ok(())
    }
}

/// A service that has not been configured yet.
pub(super) fn service() -> ProviderService<FakeProvider> {
    ProviderService::new(FakeProvider)
}

/// A service after a successful ConfigureProvider.
pub(super) async fn configured() -> ProviderService<FakeProvider> {
    let s = service();
    let config = obj(&[("endpoint", Value::string("https://fake"))]);
    let answer = s
        .configure_provider(pb::configure_provider::Request {
            config: Some(dv(&s.provider.schema(), &config)),
            ..Default::default()
        })
        .await;
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);
    s
}

/// What the fakes were asked to do so far.
pub(super) fn calls(s: &ProviderService<FakeProvider>) -> Vec<String> {
    s.data.get().unwrap().calls.lock().unwrap().clone()
}

/// An object value; attributes left out are null.
pub(super) fn obj(attrs: &[(&str, Value)]) -> Value {
    Value::Object(
        attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// A request value, encoded the way Terraform sends it.
pub(super) fn dv(schema: &Schema, value: &Value) -> pb::DynamicValue {
    wire::encode_dynamic(&schema.value_type(), value).unwrap()
}

/// Reads a response value back.
pub(super) fn value_of(schema: &Schema, dv: Option<&pb::DynamicValue>) -> Value {
    wire::decode_dynamic(&schema.value_type(), dv).unwrap()
}

pub(super) fn summaries(diags: &[pb::Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.summary.as_str()).collect()
}
