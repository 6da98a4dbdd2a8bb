//! Resource identity (protocol 6.9, Terraform 1.12 and later): the few
//! string attributes that name an object, which Terraform keeps beside the
//! state and accepts in `import { identity = { ... } }`.
//!
//! An identity here is always a subset of the resource's own string
//! attributes, every one required for import, so it is derived from state
//! and never stored separately; its import id is the values joined by `/`,
//! the same string a resource documents for `terraform import`.

use std::collections::BTreeMap;

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::value::{Type, Value, wire};

/// Version of every identity schema: bump with an upgrade in
/// `UpgradeResourceIdentity` if an identity ever changes shape.
pub const VERSION: i64 = 0;

#[derive(Clone, Copy, Debug)]
pub struct Identity {
    /// State attributes, in import-id order, each with its description.
    pub attributes: &'static [(&'static str, &'static str)],
}

impl Identity {
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|(name, _)| (name.to_string(), Type::String))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    pub fn to_proto(&self) -> pb::ResourceIdentitySchema {
        pb::ResourceIdentitySchema {
            version: VERSION,
            identity_attributes: self
                .attributes
                .iter()
                .map(
                    |(name, description)| pb::resource_identity_schema::IdentityAttribute {
                        name: name.to_string(),
                        r#type: Type::String.to_json_bytes(),
                        required_for_import: true,
                        optional_for_import: false,
                        description: description.to_string(),
                    },
                )
                .collect(),
        }
    }

    /// The identity of the object `state` describes; null for no object,
    /// unknown values while the state's are (a create's plan).
    pub fn of_state(&self, state: &Value) -> Value {
        if state.is_null() {
            return Value::Null;
        }
        Value::Object(
            self.attributes
                .iter()
                .map(|(name, _)| (name.to_string(), state.get(name).clone()))
                .collect(),
        )
    }

    /// The documented import id for an identity Terraform sends.
    pub fn import_id(&self, identity: &Value) -> Result<String, Diagnostics> {
        let mut parts = Vec::with_capacity(self.attributes.len());
        let mut diags = Diagnostics::new();
        for (name, _) in self.attributes {
            match identity.get(name).as_str() {
                Some(v) if !v.is_empty() && !v.contains('/') => parts.push(v.to_string()),
                _ => diags.push(
                    Diagnostic::error(
                        "Incomplete identity",
                        format!(
                            "The identity needs {name} as a non-empty string without `/`: set it \
                             in the import block's `identity`."
                        ),
                    )
                    .at(AttributePath::attr(name)),
                ),
            }
        }
        if diags.is_empty() {
            Ok(parts.join("/"))
        } else {
            Err(diags)
        }
    }

    pub fn encode(&self, identity: &Value) -> Result<pb::ResourceIdentityData, Diagnostics> {
        wire::encode_dynamic(&self.value_type(), identity)
            .map(|data| pb::ResourceIdentityData {
                identity_data: Some(data),
            })
            .map_err(|e| Diagnostic::error("Could not encode the identity", e.message).into())
    }

    /// The identity in a request; null when Terraform sent none.
    pub fn decode(&self, data: Option<&pb::ResourceIdentityData>) -> Result<Value, Diagnostics> {
        wire::decode_dynamic(
            &self.value_type(),
            data.and_then(|d| d.identity_data.as_ref()),
        )
        .map_err(|e| Diagnostic::error("Invalid identity", e.message).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACHMENT: Identity = Identity {
        attributes: &[("integration_id", "i"), ("stack_id", "s")],
    };

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn identity_is_the_named_attributes_of_state() {
        let state = obj(&[
            ("id", Value::string("I/net")),
            ("integration_id", Value::string("I")),
            ("stack_id", Value::string("net")),
            ("read", Value::Bool(true)),
        ]);
        let identity = ATTACHMENT.of_state(&state);
        assert_eq!(
            identity,
            obj(&[
                ("integration_id", Value::string("I")),
                ("stack_id", Value::string("net"))
            ])
        );
        assert_eq!(ATTACHMENT.import_id(&identity).unwrap(), "I/net");
        assert_eq!(ATTACHMENT.of_state(&Value::Null), Value::Null);
        let data = ATTACHMENT.encode(&identity).unwrap();
        assert_eq!(ATTACHMENT.decode(Some(&data)).unwrap(), identity);
    }

    #[test]
    fn an_incomplete_identity_names_each_missing_attribute() {
        let identity = obj(&[
            ("integration_id", Value::string("")),
            ("stack_id", Value::Null),
        ]);
        let err = ATTACHMENT.import_id(&identity).unwrap_err();
        let paths: Vec<String> = err
            .0
            .iter()
            .map(|d| d.path.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["integration_id", "stack_id"]);
    }
}
