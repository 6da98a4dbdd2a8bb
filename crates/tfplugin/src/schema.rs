//! Schemas: what a provider, resource or data source accepts and returns.
//!
//! An attribute carries its plan behaviour as data (`requires_replace`,
//! `stable`, `default`), next to its type and description, so the generic planner can
//! apply it and docs can be generated from the same place.

use std::collections::BTreeMap;

use super::proto::tfplugin6 as pb;
use super::value::{Type, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    /// Set by the provider only; configuring it is an error.
    Computed,
    /// Configurable; the provider fills it when left out.
    OptionalComputed,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub mode: Mode,
    pub sensitive: bool,
    /// A change to this attribute destroys and re-creates the object.
    pub requires_replace: bool,
    /// Computed value that never changes after create (ids, creation
    /// times): an update keeps the prior value instead of planning unknown.
    pub stable: bool,
    /// What an optional, computed attribute is when the configuration
    /// leaves it out, known at plan (not `(known after apply)`), and the
    /// value it returns to when removed from the configuration.
    pub default: Option<Value>,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, mode: Mode, description: &'static str) -> Self {
        Attribute {
            name,
            ty,
            description,
            mode,
            sensitive: false,
            requires_replace: false,
            stable: false,
            default: None,
        }
    }

    pub fn required(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Required, description)
    }

    pub fn optional(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Optional, description)
    }

    pub fn computed(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Computed, description)
    }

    pub fn optional_computed(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::OptionalComputed, description)
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn stable(mut self) -> Self {
        self.stable = true;
        self
    }

    /// Only for optional, computed attributes: Terraform refuses a plan
    /// that changes a value the configuration sets.
    pub fn default(mut self, value: Value) -> Self {
        debug_assert_eq!(self.mode, Mode::OptionalComputed, "{}", self.name);
        self.default = Some(value);
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(self.mode, Mode::Computed | Mode::OptionalComputed)
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.to_string(),
            r#type: self.ty.to_json_bytes(),
            nested_type: None,
            description: self.description.to_string(),
            required: self.mode == Mode::Required,
            optional: matches!(self.mode, Mode::Optional | Mode::OptionalComputed),
            computed: self.is_computed(),
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
            write_only: false,
        }
    }
}

/// A schema: a version (bumped when stored state changes shape) and the
/// attributes. deputy uses attributes only, no nested blocks: nested
/// attributes and collections of objects read better in HCL and plan more
/// predictably.
#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn new(version: i64, description: &'static str, attributes: Vec<Attribute>) -> Self {
        Schema {
            version,
            description,
            attributes,
        }
    }

    /// The object type of a value conforming to this schema.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_string(), a.ty.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    /// `state` with each null attribute that has a default set to it.
    pub fn fill_defaults(&self, mut state: Value) -> Value {
        if let Value::Object(values) = &mut state {
            for attr in &self.attributes {
                if let (Some(default), Some(slot)) = (&attr.default, values.get_mut(attr.name))
                    && slot.is_null()
                {
                    *slot = default.clone();
                }
            }
        }
        state
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.to_string(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
            }),
        }
    }
}
