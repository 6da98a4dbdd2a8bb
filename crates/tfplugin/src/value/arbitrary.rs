//! proptest strategies for types and values that conform to them, shared by
//! the codec tests.
//!
//! Generated values are in the form the decoders produce: numbers
//! normalised, objects with every attribute, sets without repeated
//! wholly-known elements, refinements only where the type allows them. That
//! makes `decode(encode(v)) == v` the property to check.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{Number, Refinements, Type, Value};

/// Which wire the values are for: JSON has no unknowns and no infinities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Wire {
    Msgpack,
    Json,
}

/// Types up to a few levels deep, `dynamic` included.
pub(crate) fn any_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic)
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map(attr_name(), inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// A type together with a value of it.
pub(crate) fn typed_value(wire: Wire) -> impl Strategy<Value = (Type, Value)> {
    any_type().prop_flat_map(move |ty| {
        let value = value_of(&ty, wire, 2);
        (Just(ty), value)
    })
}

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-z_]{1,6}", 1 => any::<String>()]
}

/// Any string, with JSON's escape-worthy characters over-represented.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[\\x00-\\x1f\"\\\\/é😀]{0,6}"]
}

/// A value of `ty`. `dynamic_budget` bounds how many `dynamic` slots deep
/// fresh types are invented, so generation terminates.
fn value_of(ty: &Type, wire: Wire, dynamic_budget: u32) -> BoxedStrategy<Value> {
    let known = known_value_of(ty, wire, dynamic_budget);
    if wire == Wire::Json {
        return prop_oneof![1 => Just(Value::Null), 6 => known].boxed();
    }
    prop_oneof![1 => Just(Value::Null), 1 => unknown_of(ty), 6 => known].boxed()
}

fn known_value_of(ty: &Type, wire: Wire, dynamic_budget: u32) -> BoxedStrategy<Value> {
    let element = |t: &Type| value_of(t, wire, dynamic_budget);
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number(wire).prop_map(Value::Number).boxed(),
        Type::String => text().prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(element(e), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(element(e), 0..4)
            .prop_map(|items| Value::Set(without_repeats(items)))
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(text(), element(e), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<_> = attrs.values().map(element).collect();
            values
                .prop_map(move |vs| {
                    Value::Object(names.iter().cloned().zip(vs).collect::<BTreeMap<_, _>>())
                })
                .boxed()
        }
        Type::Tuple(types) => types
            .iter()
            .map(element)
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic if dynamic_budget == 0 => Just(Value::Null).boxed(),
        Type::Dynamic => any_type()
            .prop_filter("a dynamic value names a concrete type", |t| {
                *t != Type::Dynamic
            })
            .prop_flat_map(move |t| {
                value_of(&t, wire, dynamic_budget - 1)
                    .prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v)))
            })
            .boxed(),
    }
}

/// Numbers in normal form: integral floats are `Int`, `Big` only when no
/// i64 or f64 holds the text exactly (25+ significant digits ensure that).
fn number(wire: Wire) -> BoxedStrategy<Number> {
    let finite = prop_oneof![
        any::<i64>().prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::from_f64),
        "-?[1-9][0-9]{24,40}[1-9]".prop_map(Number::Big),
        "[1-9]\\.[0-9]{30}[1-9]e-?[1-9][0-9]{0,3}".prop_map(Number::Big),
    ];
    match wire {
        Wire::Json => finite.boxed(),
        Wire::Msgpack => prop_oneof![
            9 => finite,
            1 => prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY)].prop_map(Number::Float),
        ]
        .boxed(),
    }
}

/// An unknown with refinements that suit `ty`. "Definitely null" is left
/// out: it decodes as a known null.
fn unknown_of(ty: &Type) -> BoxedStrategy<Value> {
    if *ty == Type::Dynamic {
        return Just(Value::unknown()).boxed();
    }
    let nullable = prop::option::of(Just(false));
    let prefix = match ty {
        Type::String => prop::option::of(text()).boxed(),
        _ => Just(None).boxed(),
    };
    let bounds = match ty {
        Type::Number => {
            let bound = || prop::option::of((number(Wire::Msgpack), any::<bool>()));
            (bound(), bound()).boxed()
        }
        _ => Just((None, None)).boxed(),
    };
    let lengths = match ty {
        t if t.is_collection() => (prop::option::of(0..10i64), prop::option::of(0..10i64)).boxed(),
        _ => Just((None, None)).boxed(),
    };
    (nullable, prefix, bounds, lengths)
        .prop_map(
            |(
                nullable,
                string_prefix,
                (number_lower, number_upper),
                (length_lower, length_upper),
            )| {
                Value::Unknown(Refinements {
                    nullable,
                    string_prefix,
                    number_lower,
                    number_upper,
                    length_lower,
                    length_upper,
                })
            },
        )
        .boxed()
}

/// Drops wholly-known elements equal to an earlier one, as a cty set would.
fn without_repeats(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !item.is_wholly_known() || !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
