//! cty types and their JSON form.
//!
//! Schemas send attribute types as cty type JSON (`"string"`,
//! `["list","string"]`, `["object",{"a":"number"}]`). Terraform panics on
//! type JSON it cannot parse, so the encoder here is the only place that
//! writes it.

use std::collections::BTreeMap;

use super::{CodecError, MAX_DEPTH};
use crate::diag::AttributePath;

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type, decided per value at run time.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(of: Type) -> Type {
        Type::List(Box::new(of))
    }

    pub fn set(of: Type) -> Type {
        Type::Set(Box::new(of))
    }

    pub fn map(of: Type) -> Type {
        Type::Map(Box::new(of))
    }

    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}

impl Type {
    /// The type's cty JSON form, e.g. `["list","string"]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let pair = |kind: &str, arg: J| J::Array(vec![J::from(kind), arg]);
        match self {
            Type::Bool => J::from("bool"),
            Type::Number => J::from("number"),
            Type::String => J::from("string"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(of) => pair("list", of.to_json()),
            Type::Set(of) => pair("set", of.to_json()),
            Type::Map(of) => pair("map", of.to_json()),
            Type::Object(attrs) => pair(
                "object",
                J::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ),
            Type::Tuple(elems) => {
                pair("tuple", J::Array(elems.iter().map(Type::to_json).collect()))
            }
        }
    }

    /// The compact JSON text of [`Type::to_json`]: what schemas carry in
    /// `Schema.Attribute.type` and what msgpack puts in a dynamic value.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses cty type JSON. Object types may carry a third element naming
    /// their optional attributes (go-cty writes it for type constraints with
    /// `optional(...)`); optionality only matters to conversion, not to the
    /// wire, so it is checked and dropped.
    pub fn from_json(v: &serde_json::Value) -> Result<Type, CodecError> {
        type_from_json(v, 0)
    }

    /// Parses cty type JSON text; see [`Type::from_json`].
    pub fn from_json_bytes(b: &[u8]) -> Result<Type, CodecError> {
        let v: serde_json::Value = serde_json::from_slice(b)
            .map_err(|e| type_error(format!("type is not valid JSON: {e}")))?;
        Type::from_json(&v)
    }

    /// "a list", "an object", ...: how error messages name what they expected.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Type::Bool => "a bool",
            Type::Number => "a number",
            Type::String => "a string",
            Type::Dynamic => "a dynamic value",
            Type::List(_) => "a list",
            Type::Set(_) => "a set",
            Type::Map(_) => "a map",
            Type::Object(_) => "an object",
            Type::Tuple(_) => "a tuple",
        }
    }

    /// True for list, set and map: the types cty calls collections, the only
    /// ones that can carry length refinements.
    pub(crate) fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }
}

fn type_error(message: impl Into<String>) -> CodecError {
    CodecError::new(&AttributePath::root(), message)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn type_from_json(v: &serde_json::Value, depth: usize) -> Result<Type, CodecError> {
    use serde_json::Value as J;
    if depth >= MAX_DEPTH {
        return Err(type_error(format!(
            "type is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    let items = match v {
        J::String(name) => {
            return match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(type_error(format!("unknown primitive type {other:?}"))),
            };
        }
        J::Array(items) => items,
        other => {
            return Err(type_error(format!(
                "expected a type name or a [kind, argument] array, found {}",
                json_kind(other)
            )));
        }
    };
    let kind = match items.first() {
        Some(J::String(kind)) => kind.as_str(),
        Some(other) => {
            return Err(type_error(format!(
                "expected a type kind string, found {}",
                json_kind(other)
            )));
        }
        None => {
            return Err(type_error(
                "expected a [kind, argument] array, found an empty array",
            ));
        }
    };
    let max_len = if kind == "object" { 3 } else { 2 };
    if items.len() < 2 || items.len() > max_len {
        return Err(type_error(format!(
            "expected {kind:?} to have {} element(s) after the kind, found {}",
            if max_len == 3 { "1 or 2" } else { "1" },
            items.len() - 1
        )));
    }
    let arg = &items[1];
    let element = || type_from_json(arg, depth + 1).map(Box::new);
    match kind {
        "list" => Ok(Type::List(element()?)),
        "set" => Ok(Type::Set(element()?)),
        "map" => Ok(Type::Map(element()?)),
        "object" => {
            let J::Object(attrs) = arg else {
                return Err(type_error(format!(
                    "expected object attributes as a JSON object, found {}",
                    json_kind(arg)
                )));
            };
            let attrs = attrs
                .iter()
                .map(|(name, t)| Ok((name.clone(), type_from_json(t, depth + 1)?)))
                .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
            if let Some(optional) = items.get(2) {
                check_optional_attrs(optional, &attrs)?;
            }
            Ok(Type::Object(attrs))
        }
        "tuple" => {
            let J::Array(elems) = arg else {
                return Err(type_error(format!(
                    "expected tuple element types as an array, found {}",
                    json_kind(arg)
                )));
            };
            let elems = elems
                .iter()
                .map(|t| type_from_json(t, depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(Type::Tuple(elems))
        }
        other => Err(type_error(format!("unknown type kind {other:?}"))),
    }
}

/// The optional-attributes list must name attributes of the object: go-cty
/// panics on anything else, so accepting it here would only defer the failure.
fn check_optional_attrs(
    optional: &serde_json::Value,
    attrs: &BTreeMap<String, Type>,
) -> Result<(), CodecError> {
    let serde_json::Value::Array(names) = optional else {
        return Err(type_error(format!(
            "expected optional attribute names as an array, found {}",
            json_kind(optional)
        )));
    };
    for name in names {
        match name {
            serde_json::Value::String(n) if attrs.contains_key(n) => {}
            serde_json::Value::String(n) => {
                return Err(type_error(format!(
                    "optional attribute {n:?} is not an attribute of the object"
                )));
            }
            other => {
                return Err(type_error(format!(
                    "expected an optional attribute name, found {}",
                    json_kind(other)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::arbitrary::any_type;

    #[test]
    fn json_forms() {
        #[rustfmt::skip]
        let cases = [
            (Type::Bool, r#""bool""#),
            (Type::Number, r#""number""#),
            (Type::String, r#""string""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (Type::map(Type::Bool), r#"["map","bool"]"#),
            (Type::object([("b", Type::String), ("a", Type::list(Type::Dynamic))]), r#"["object",{"a":["list","dynamic"],"b":"string"}]"#),
            (Type::Tuple(vec![Type::String, Type::Number]), r#"["tuple",["string","number"]]"#),
            (Type::Tuple(vec![]), r#"["tuple",[]]"#),
        ];
        for (ty, json) in cases {
            assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), json);
            assert_eq!(Type::from_json_bytes(json.as_bytes()), Ok(ty));
        }
    }

    #[test]
    fn optional_attributes_are_dropped() {
        let json = br#"["object",{"a":"string","b":"number"},["b"]]"#;
        let want = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(Type::from_json_bytes(json), Ok(want));
    }

    #[test]
    fn invalid_type_json() {
        let deep = format!("{}\"string\"{}", "[\"list\",".repeat(70), "]".repeat(70));
        #[rustfmt::skip]
        let cases = [
            ("", "type is not valid JSON: EOF while parsing a value at line 1 column 0"),
            ("\"text\"", "unknown primitive type \"text\""),
            ("42", "expected a type name or a [kind, argument] array, found a number"),
            ("[]", "expected a [kind, argument] array, found an empty array"),
            ("[1,\"string\"]", "expected a type kind string, found a number"),
            ("[\"list\"]", "expected \"list\" to have 1 element(s) after the kind, found 0"),
            ("[\"list\",\"string\",\"x\"]", "expected \"list\" to have 1 element(s) after the kind, found 2"),
            ("[\"object\",{},[],1]", "expected \"object\" to have 1 or 2 element(s) after the kind, found 3"),
            ("[\"bag\",\"string\"]", "unknown type kind \"bag\""),
            ("[\"object\",[]]", "expected object attributes as a JSON object, found an array"),
            ("[\"object\",{\"a\":\"string\"},[\"b\"]]", "optional attribute \"b\" is not an attribute of the object"),
            ("[\"object\",{\"a\":\"string\"},\"a\"]", "expected optional attribute names as an array, found a string"),
            ("[\"object\",{\"a\":\"string\"},[1]]", "expected an optional attribute name, found a number"),
            ("[\"tuple\",{}]", "expected tuple element types as an array, found an object"),
            ("[\"map\",[\"set\",\"strung\"]]", "unknown primitive type \"strung\""),
            (&deep, "type is nested more than 64 levels deep"),
        ];
        for (json, message) in cases {
            let err = Type::from_json_bytes(json.as_bytes()).expect_err(json);
            assert_eq!(err.message, message, "{json}");
            assert!(err.path.is_empty());
        }
    }

    proptest! {
        #[test]
        fn round_trip(ty in any_type()) {
            prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()), Ok(ty));
        }
    }
}
