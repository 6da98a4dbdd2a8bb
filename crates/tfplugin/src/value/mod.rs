//! cty values as Terraform puts them on the wire.
//!
//! Terraform's type system (go-cty) is structural: a value only makes sense
//! next to its type, and the wire formats (msgpack, JSON) are decoded *against*
//! a type. So the codec takes a [`Type`] and a byte slice and gives back an
//! untyped [`Value`] tree; encoding takes the pair back to bytes.
//!
//! - [`types`]: `Type` and its JSON form (what schemas put in `type`).
//! - [`msgpack`]: the encoding Terraform uses for every `DynamicValue`.
//! - [`json`]: the encoding of `DynamicValue.json` and of raw state.
//! - [`wire`]: `DynamicValue` in and out, choosing between the two.
//!
//! Neither decoder trusts its input: every malformed byte sequence becomes a
//! [`CodecError`] with the attribute path where it went wrong, never a panic.

#[cfg(test)]
mod arbitrary;
mod decimal;
pub mod json;
pub mod msgpack;
mod trail;
pub mod types;
pub mod wire;

use std::collections::BTreeMap;
use std::fmt;

pub use types::Type;

use decimal::Decimal;

use crate::diag::AttributePath;

/// How deeply types and values may nest before the codecs give up. Decoders
/// recurse, so hostile input must not be able to choose the stack depth; real
/// schemas stay far below this.
pub const MAX_DEPTH: usize = 64;

/// An untyped cty value; its meaning comes from the [`Type`] it travels with.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    /// Not known until apply. Terraform may attach refinements that narrow
    /// what the final value can be; they are kept so they can be sent back.
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in wire order; cty sets have no meaningful order and no
    /// duplicates, which the decoders enforce.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value whose type is only known at run time (`Type::Dynamic` in the
    /// schema): the wire carries the concrete type alongside.
    Dynamic(Type, Box<Value>),
}

/// What Terraform promises about an unknown value (cty "refinements").
/// All fields empty means a plain unknown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// Refinement key 1, which on the wire says *is null*, not *may be null*:
    /// `Some(false)`: the final value will not be null. `Some(true)`: it will
    /// be null, which go-cty (and this crate's decoder) collapses into a known
    /// `Value::Null` on decode, so decoded values only ever carry `None` or
    /// `Some(false)`. `None`: it may or may not be null.
    pub nullable: Option<bool>,
    pub string_prefix: Option<String>,
    /// Bound and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<i64>,
    pub length_upper: Option<i64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty number. cty numbers are arbitrary-precision; deputy only needs
/// integers and floats, and keeps anything wider as its decimal text so it
/// survives a round trip untouched.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Decimal text of a number that fits neither an i64 nor an f64 exactly.
    Big(String),
}

impl Number {
    /// Normalises so that equal numbers have one representation: a float
    /// holding an integer in i64 range becomes `Int`.
    pub fn from_f64(f: f64) -> Number {
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    /// `Int` in i64 range, else `Float` if the f64 is exactly `u`, else `Big`.
    pub fn from_u64(u: u64) -> Number {
        const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
        match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            // `as` rounds to nearest; the bound guards the saturating cast back.
            Err(_) if (u as f64) < TWO_TO_64 && (u as f64) as u64 == u => Number::Float(u as f64),
            Err(_) => Number::Big(u.to_string()),
        }
    }

    /// Parses decimal text as cty writes it in JSON and msgpack strings:
    /// an optional sign, digits with an optional point, an optional exponent.
    /// Text whose value an i64 or f64 holds exactly becomes `Int`/`Float`;
    /// anything else (0.1, 2^64 + 1, 1e400) is kept as `Big`, because
    /// Terraform compares numbers exactly and must get the same one back.
    pub fn parse(text: &str) -> Option<Number> {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        let decimal = Decimal::parse(text)?;
        Some(match decimal.exact_f64(text) {
            Some(f) => Number::from_f64(f),
            None => Number::Big(text.to_string()),
        })
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Big(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Big(a), Number::Big(b)) => a == b,
            (Number::Big(_), _) | (_, Number::Big(_)) => false,
            (a, b) => a.as_f64() == b.as_f64(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

/// A wire value that does not fit its type, or bytes that are not valid
/// msgpack/JSON. `path` points at the offending attribute or element.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}{}", path_suffix(.path))]
pub struct CodecError {
    pub path: AttributePath,
    pub message: String,
}

fn path_suffix(path: &AttributePath) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (at {path})")
    }
}

impl CodecError {
    pub fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        CodecError {
            path: path.clone(),
            message: message.into(),
        }
    }
}

impl Value {
    /// "null", "a list", ...: how error messages name what they found.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Object(_) => "an object",
            Value::Tuple(_) => "a tuple",
            Value::Dynamic(..) => "a dynamic value",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when no unknown appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Attribute of an object; `Null` when the value is not an object or the
    /// attribute is absent, which is how cty reads a missing optional.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_parse() {
        // 182.186676025390625 exactly, an f32 widened to f64.
        const HALFWAY: f64 = 182.18667_f32 as f64;
        let big = |s: &str| Some(Number::Big(s.to_string()));
        #[rustfmt::skip]
        let cases = [
            ("12", Some(Number::Int(12))),
            ("-0", Some(Number::Int(0))),
            ("+5", Some(Number::Int(5))),
            ("1.0", Some(Number::Int(1))),
            ("1e3", Some(Number::Int(1000))),
            ("-0.0", Some(Number::Int(0))),
            ("1.5", Some(Number::Float(1.5))),
            (".5", Some(Number::Float(0.5))),
            ("0.1", big("0.1")),
            ("1e20", Some(Number::Float(1e20))),
            // Shortest texts of an f64 are not its value: only the exact one is.
            ("182.18667602539062", big("182.18667602539062")),
            ("182.186676025390625", Some(Number::Float(HALFWAY))),
            ("9223372036854775808", Some(Number::Float(9223372036854775808.0))),
            ("9223372036854775809", big("9223372036854775809")),
            ("18446744073709551616", Some(Number::Float(18446744073709551616.0))),
            ("18446744073709551617", big("18446744073709551617")),
            ("0.1000000000000000000001", big("0.1000000000000000000001")),
            ("1e400", big("1e400")),
            ("1e-400", big("1e-400")),
            ("1e99999999999999999999999", big("1e99999999999999999999999")),
            ("", None),
            ("abc", None),
            ("1e", None),
            ("--1", None),
            ("1.2.3", None),
            (".", None),
            ("inf", None),
            ("NaN", None),
            ("0x10", None),
        ];
        for (text, want) in cases {
            let got = Number::parse(text);
            // Number's PartialEq equates Int and Float; the variant matters here.
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{text}");
        }
    }

    #[test]
    fn number_from_u64() {
        let cases = [
            (7, Number::Int(7)),
            (1 << 63, Number::Float(9223372036854775808.0)),
            ((1 << 63) + 1, Number::Big("9223372036854775809".into())),
            (u64::MAX, Number::Big("18446744073709551615".into())),
        ];
        for (u, want) in cases {
            assert_eq!(
                format!("{:?}", Number::from_u64(u)),
                format!("{want:?}"),
                "{u}"
            );
        }
    }
}
