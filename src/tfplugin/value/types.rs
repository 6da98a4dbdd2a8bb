//! cty types and their JSON form.
//!
//! Schemas send attribute types as cty type JSON (`"string"`,
//! `["list","string"]`, `["object",{"a":"number"}]`). Terraform panics on
//! type JSON it cannot parse, so the encoder here is the only place that
//! writes it.

use std::collections::BTreeMap;

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
