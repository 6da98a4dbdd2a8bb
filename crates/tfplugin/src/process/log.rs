//! Provider logs in hclog's JSON line format on stderr.
//!
//! go-plugin reads the plugin's stderr line by line; a line that is an hclog
//! JSON object (`@level`, `@message`, `@timestamp`, other keys as fields) is
//! re-logged by Terraform at that level under the provider's name, so
//! `TF_LOG=debug terraform plan` shows deputy's logs interleaved with
//! Terraform's own, while a plain text line would be demoted to debug.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The level asked for through Terraform's own variables: `TF_LOG_PROVIDER`
/// first, then `TF_LOG`. Terraform discards plugin lines unless one is set,
/// so without them only errors are written.
pub fn level_from_env() -> LevelFilter {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default();
    match raw.trim().to_ascii_lowercase().as_str() {
        "trace" | "json" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" => LevelFilter::WARN,
        "off" => LevelFilter::OFF,
        _ => LevelFilter::ERROR,
    }
}

/// Installs the hclog layer as the global subscriber: `level` for the
/// provider's own code (`crate_targets`, and this crate), at most warnings
/// from libraries, whose debug output (every HTTP/2 frame) would drown it.
pub fn init(module: &'static str, crate_targets: &[&'static str], level: LevelFilter) {
    let filter = Targets::new()
        .with_targets(
            crate_targets
                .iter()
                .chain([&env!("CARGO_CRATE_NAME")])
                .map(|t| (*t, level)),
        )
        .with_default(level.min(LevelFilter::WARN));
    let _ = tracing_subscriber::registry()
        .with(HclogLayer { module }.with_filter(filter))
        .try_init();
}

/// Formats each event as one hclog JSON line on stderr.
pub struct HclogLayer {
    module: &'static str,
}

impl HclogLayer {
    fn line(&self, event: &Event<'_>) -> String {
        let mut fields = FieldsToJson::default();
        event.record(&mut fields);
        let mut object = Map::new();
        object.insert(
            "@level".into(),
            Json::from(level_name(*event.metadata().level())),
        );
        object.insert("@message".into(), Json::from(fields.message));
        object.insert("@module".into(), Json::from(self.module));
        object.insert("@timestamp".into(), Json::from(timestamp()));
        object.extend(fields.fields);
        Json::Object(object).to_string()
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = self.line(event);
        line.push('\n');
        // One write per line so concurrent events never interleave mid-line.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// hclog's JSON timestamp layout, which go-plugin parses back.
fn timestamp() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[derive(Default)]
struct FieldsToJson {
    message: String,
    fields: Map<String, Json>,
}

impl Visit for FieldsToJson {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.insert(field.name().into(), Json::from(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), Json::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().into(), Json::from(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Captures lines instead of writing them, to check their shape.
    struct Capture(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            let line = HclogLayer { module: "deputy" }.line(event);
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn events_become_hclog_json() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(
                rpc = "ConfigureProvider",
                attempts = 3,
                "configuring provider"
            );
        });
        let lines = lines.lock().unwrap();
        let v: Json = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "configuring provider");
        assert_eq!(v["@module"], "deputy");
        assert_eq!(v["rpc"], "ConfigureProvider");
        assert_eq!(v["attempts"], 3);
        let ts = v["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-01-02T03:04:05.000000Z".len(), "{ts}");
    }
}
