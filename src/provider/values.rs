//! Moving between Terraform values and the broker's API types.

use crate::wire::Labels;
use tfplugin::value::{Number, Value};

pub fn string(v: &Value, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

pub fn boolean(v: &Value, name: &str) -> Option<bool> {
    v.get(name).as_bool()
}

pub fn int(v: &Value, name: &str) -> Option<i64> {
    v.get(name).as_number().and_then(Number::as_i64)
}

pub fn labels(v: &Value, name: &str) -> Labels {
    v.get(name)
        .as_entries()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

pub fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

pub fn labels_value(labels: &Labels) -> Value {
    Value::Map(labels.iter().map(|(k, v)| (k.clone(), text(v))).collect())
}

pub fn nullable(s: &Option<String>) -> Value {
    s.as_ref().map(text).unwrap_or(Value::Null)
}

/// A list of strings, or an empty list for null or unknown.
pub fn strings(v: &Value, name: &str) -> Vec<String> {
    v.get(name)
        .as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// A list of strings as a value (`[]` when empty).
pub fn strings_value(items: &[String]) -> Value {
    Value::List(items.iter().map(text).collect())
}
