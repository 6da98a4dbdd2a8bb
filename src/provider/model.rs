//! Typed resource models: a struct per resource whose fields are its
//! attributes, declared once with [`resource_model!`]. The macro makes the
//! schema's attribute list, the conversion from a Terraform value (a plan,
//! a state) and back, and a constant per attribute name (`Model::name`)
//! for validation and diagnostics. An attribute's name is thus written
//! once, as a field, and a misspelt one does not compile.

use std::collections::BTreeSet;

use crate::wire::Labels;
use tfplugin::value::{Number, Value};

/// What an attribute holds in Rust. `read` takes the attribute's value
/// (null or unknown read as empty, `false` or `None`: a model is read from
/// wholly known plans and states); `write` gives it back.
pub trait Field: Sized {
    fn read(v: &Value) -> Self;
    fn write(&self) -> Value;
}

impl Field for String {
    fn read(v: &Value) -> Self {
        v.as_str().unwrap_or_default().to_string()
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Field for Option<String> {
    fn read(v: &Value) -> Self {
        v.as_str().map(str::to_string)
    }
    fn write(&self) -> Value {
        self.as_ref()
            .map_or(Value::Null, |s| Value::String(s.clone()))
    }
}

impl Field for bool {
    fn read(v: &Value) -> Self {
        v.as_bool().unwrap_or(false)
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Field for Option<i64> {
    fn read(v: &Value) -> Self {
        v.as_number().and_then(Number::as_i64)
    }
    fn write(&self) -> Value {
        self.map_or(Value::Null, |n| Value::Number(Number::Int(n)))
    }
}

/// A map of strings (labels, claim rules).
impl Field for Labels {
    fn read(v: &Value) -> Self {
        v.as_entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
    fn write(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

/// A list of strings.
impl Field for Vec<String> {
    fn read(v: &Value) -> Self {
        items(v).collect()
    }
    fn write(&self) -> Value {
        Value::List(self.iter().cloned().map(Value::String).collect())
    }
}

/// A set of strings.
impl Field for BTreeSet<String> {
    fn read(v: &Value) -> Self {
        items(v).collect()
    }
    fn write(&self) -> Value {
        Value::Set(self.iter().cloned().map(Value::String).collect())
    }
}

/// The strings of a list or set (none for null or unknown).
fn items(v: &Value) -> impl Iterator<Item = String> + '_ {
    v.as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
}

/// Declares a resource's model: `field: Type => |name| Attribute::...(name,
/// ...)` per attribute, in schema order. The closure gets the field's name
/// as the attribute's.
macro_rules! resource_model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $model:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty => $attribute:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $model {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        #[allow(non_upper_case_globals, dead_code)]
        impl $model {
            $( pub const $field: &'static str = stringify!($field); )*

            /// The schema's attributes, in declaration order.
            pub fn attributes() -> Vec<tfplugin::schema::Attribute> {
                vec![ $( ($attribute)(stringify!($field)) ),* ]
            }

            /// The model of a plan or state.
            pub fn from_value(v: &tfplugin::value::Value) -> Self {
                $model {
                    $( $field: $crate::provider::model::Field::read(v.get(stringify!($field))), )*
                }
            }

            /// The model as a plan or state.
            pub fn to_value(&self) -> tfplugin::value::Value {
                tfplugin::value::Value::Object(
                    [ $( (
                        stringify!($field).to_string(),
                        $crate::provider::model::Field::write(&self.$field),
                    ) ),* ]
                    .into_iter()
                    .collect(),
                )
            }
        }
    };
}

pub(crate) use resource_model;

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::schema::Attribute;
    use tfplugin::value::Type;

    resource_model! {
        struct Example {
            id: String => |n| Attribute::computed(n, Type::String, "Id."),
            note: Option<String> => |n| Attribute::optional(n, Type::String, "Note."),
            flag: bool => |n| Attribute::optional(n, Type::Bool, "Flag."),
            count: Option<i64> => |n| Attribute::optional(n, Type::Number, "Count."),
            labels: Labels => |n| Attribute::optional(n, Type::map(Type::String), "Labels."),
            list: Vec<String> => |n| Attribute::optional(n, Type::list(Type::String), "List."),
            set: BTreeSet<String> => |n| Attribute::optional(n, Type::set(Type::String), "Set."),
        }
    }

    #[test]
    fn a_model_round_trips_and_names_its_attributes_once() {
        let model = Example {
            id: "x".into(),
            note: Some("n".into()),
            flag: true,
            count: Some(3),
            labels: [("k".to_string(), "v".to_string())].into(),
            list: vec!["b".into(), "a".into()],
            set: ["a".to_string()].into(),
        };
        assert_eq!(Example::from_value(&model.to_value()), model);
        let names: Vec<&str> = Example::attributes().iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            ["id", "note", "flag", "count", "labels", "list", "set"]
        );
        assert_eq!(Example::labels, "labels");
        // Null reads as empty.
        assert_eq!(Example::from_value(&Value::Null), Example::default());
        assert_eq!(Example::default().to_value().get("note"), &Value::Null);
    }
}
