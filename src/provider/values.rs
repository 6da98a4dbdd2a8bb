//! Moving between Terraform values and the broker's API types, for the
//! data sources, functions and actions that build values by hand; each
//! conversion is `model::Field`'s, so resources and the rest read and
//! write a type the same way.

use super::model::Field;
use crate::wire::Labels;
use tfplugin::value::Value;

pub fn string(v: &Value, name: &str) -> Option<String> {
    Field::read(v.get(name))
}

/// A map of strings, or an empty map for null or unknown.
pub fn labels(v: &Value, name: &str) -> Labels {
    Field::read(v.get(name))
}

/// A list of strings, or an empty list for null or unknown.
pub fn strings(v: &Value, name: &str) -> Vec<String> {
    Field::read(v.get(name))
}

pub fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

pub fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

pub fn labels_value(labels: &Labels) -> Value {
    labels.write()
}

pub fn nullable(s: &Option<String>) -> Value {
    s.write()
}
