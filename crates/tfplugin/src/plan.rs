//! The generic half of `PlanResourceChange`, driven by schema flags.
//!
//! Terraform hands the provider a *proposed* new state: configuration merged
//! with the prior state for attributes the configuration leaves null. The
//! provider must return a plan where configured values are untouched,
//! computed values it will fill are unknown, and values that will not change
//! are known, because Terraform re-plans at apply time and rejects a plan
//! whose known values moved ("Provider produced inconsistent final plan").

use std::collections::BTreeMap;

use super::diag::AttributePath;
use super::schema::{Attribute, Mode, Schema};
use super::value::Value;

pub struct Plan {
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
}

/// Plans a create (`prior` null) or an update. Destroy plans (proposed null)
/// never get here.
pub fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> Plan {
    let creating = prior.is_null();
    // What the configuration asks for: its value, or the default of an
    // attribute it leaves out.
    let wanted = |attr: &Attribute| -> Value {
        match (&attr.default, config.get(attr.name).is_null()) {
            (Some(default), true) => default.clone(),
            _ => proposed.get(attr.name).clone(),
        }
    };
    // Does any configurable attribute change? If not, the update is a no-op
    // and every computed value keeps its prior value.
    let config_changes = !creating
        && schema
            .attributes
            .iter()
            .any(|a| a.mode != Mode::Computed && wanted(a) != *prior.get(a.name));

    let mut planned = BTreeMap::new();
    let mut requires_replace = Vec::new();
    for attr in &schema.attributes {
        let from_config = !config.get(attr.name).is_null();
        let value = if attr.default.is_some() || !attr.is_computed() || from_config {
            wanted(attr)
        } else if creating {
            Value::unknown()
        } else if attr.stable || !config_changes {
            prior.get(attr.name).clone()
        } else {
            Value::unknown()
        };
        if !creating && attr.requires_replace && value != *prior.get(attr.name) {
            requires_replace.push(AttributePath::attr(attr.name));
        }
        planned.insert(attr.name.to_string(), value);
    }
    Plan {
        planned: Value::Object(planned),
        requires_replace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Type;

    fn schema() -> Schema {
        Schema::new(
            0,
            "test",
            vec![
                Attribute::computed("id", Type::String, "id").stable(),
                Attribute::required("slug", Type::String, "slug").requires_replace(),
                Attribute::optional("name", Type::String, "name"),
                Attribute::optional_computed("space", Type::String, "space"),
                Attribute::computed("updated_at", Type::String, "changes on update"),
                Attribute::optional_computed("enabled", Type::Bool, "defaults to true")
                    .default(Value::Bool(true)),
            ],
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    #[test]
    fn create_marks_unset_computed_unknown() {
        let config = obj(&[
            ("slug", s("a")),
            ("name", Value::Null),
            ("space", s("root")),
        ]);
        let p = plan(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.planned.get("id"), &Value::unknown());
        assert_eq!(p.planned.get("space"), &s("root"));
        assert_eq!(p.planned.get("name"), &Value::Null);
        assert_eq!(p.planned.get("updated_at"), &Value::unknown());
        assert_eq!(
            p.planned.get("enabled"),
            &Value::Bool(true),
            "known at plan"
        );
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn a_default_comes_back_when_the_configuration_drops_the_value() {
        let prior = obj(&[
            ("id", s("1")),
            ("slug", s("a")),
            ("enabled", Value::Bool(false)),
        ]);
        let config = obj(&[("slug", s("a"))]);
        let p = plan(&schema(), &prior, &prior, &config);
        assert_eq!(p.planned.get("enabled"), &Value::Bool(true));
        let config = obj(&[("slug", s("a")), ("enabled", Value::Bool(false))]);
        let p = plan(&schema(), &prior, &prior, &config);
        assert_eq!(p.planned.get("enabled"), &Value::Bool(false));
    }

    #[test]
    fn no_change_keeps_everything() {
        let prior = obj(&[
            ("id", s("1")),
            ("slug", s("a")),
            ("name", s("n")),
            ("space", s("root")),
            ("updated_at", s("t1")),
            ("enabled", Value::Bool(true)),
        ]);
        let config = obj(&[("slug", s("a")), ("name", s("n")), ("space", Value::Null)]);
        let p = plan(&schema(), &prior, &prior, &config);
        assert_eq!(p.planned, prior);
    }

    #[test]
    fn update_keeps_stable_and_unknowns_the_rest() {
        let prior = obj(&[
            ("id", s("1")),
            ("slug", s("a")),
            ("name", s("n")),
            ("space", s("root")),
            ("updated_at", s("t1")),
        ]);
        let config = obj(&[("slug", s("a")), ("name", s("m")), ("space", Value::Null)]);
        let proposed = obj(&[
            ("id", s("1")),
            ("slug", s("a")),
            ("name", s("m")),
            ("space", s("root")),
            ("updated_at", s("t1")),
        ]);
        let p = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(p.planned.get("id"), &s("1"));
        assert_eq!(p.planned.get("name"), &s("m"));
        assert_eq!(p.planned.get("updated_at"), &Value::unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn immutable_change_requires_replace() {
        let prior = obj(&[("id", s("1")), ("slug", s("a")), ("name", Value::Null)]);
        let config = obj(&[("slug", s("b"))]);
        let proposed = obj(&[("id", s("1")), ("slug", s("b"))]);
        let p = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(p.requires_replace, vec![AttributePath::attr("slug")]);
    }
}
