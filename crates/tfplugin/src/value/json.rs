//! cty values as JSON: the fallback field of `DynamicValue` and the raw state
//! that `UpgradeResourceState` hands over (go-cty's `cty/json`).
//!
//! The decoder is a small parser driven by the type rather than
//! `serde_json::Value`, for two reasons. Numbers: cty numbers are arbitrary
//! precision, and serde_json (without `arbitrary_precision`, which would
//! change number handling for the whole crate) rounds integers beyond u64 to
//! f64; reading the number text keeps them exact as `Number::Big`. Errors:
//! walking the type while parsing reports the attribute path of a mismatch.
//!
//! Like go-cty, the decoder converts where cty would: a string holding a
//! number is a number, a number or bool is accepted as a string, and "true"
//! or "false" as a bool. JSON cannot carry unknown values, so encoding one is
//! an error.

use std::collections::BTreeMap;

use super::decimal::Decimal;
use super::msgpack::check_set_unique;
use super::trail::Trail;
use super::{CodecError, Number, Type, Value};
use crate::diag::PathStep;

/// Decodes one JSON value of type `ty` that, apart from whitespace, fills
/// `bytes`. Objects may omit attributes (they decode as null) but may not
/// carry ones the type lacks; keys may not repeat; set elements may not
/// repeat. A `dynamic` slot holds `{"value": ..., "type": ...}` or null.
pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, CodecError> {
    parse(ty, bytes, Removed::Refuse)
}

/// Decodes stored state written by an earlier schema: as [`decode`], except
/// that object attributes the type no longer has are skipped, as
/// terraform-plugin-framework does, so removing an attribute from a schema
/// never breaks the states that still carry it. Numbers keep their exact
/// text.
pub fn decode_state(ty: &Type, bytes: &[u8]) -> Result<Value, CodecError> {
    parse(ty, bytes, Removed::Skip)
}

fn parse(ty: &Type, bytes: &[u8], removed_attributes: Removed) -> Result<Value, CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Trail::default().error(format!(
            "JSON is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let mut parser = Parser {
        text,
        pos: 0,
        trail: Trail::default(),
        removed_attributes,
    };
    let value = parser.value(ty)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.syntax("expected the end of the input after the value"));
    }
    Ok(value)
}

/// Encodes `v`, which must conform to `ty` and be wholly known, as compact
/// JSON. Objects carry exactly the type's attributes, absent ones as null.
/// Numbers are JSON numbers: a `Float` as its exact decimal value (0.1 as
/// 0.1000000000000000055511151231257827021181583404541015625), since the
/// decoder reads "0.1" as the decimal, not as the nearest f64; a `Big` as its
/// text, or as a string when that text is not JSON number syntax (`+5`).
pub fn encode(ty: &Type, v: &Value) -> Result<Vec<u8>, CodecError> {
    let mut encoder = Encoder {
        out: Vec::new(),
        trail: Trail::default(),
    };
    encoder.value(ty, v)?;
    Ok(encoder.out)
}

struct Parser<'a> {
    /// The whole input; `pos` is a byte offset into it and always sits on a
    /// character boundary, since it only stops next to ASCII bytes.
    text: &'a str,
    pos: usize,
    trail: Trail,
    removed_attributes: Removed,
}

/// What an object attribute the type lacks is: an error in a value sent
/// now, a removed attribute in stored state.
#[derive(Clone, Copy, PartialEq)]
enum Removed {
    Refuse,
    Skip,
}

impl Parser<'_> {
    fn value(&mut self, ty: &Type) -> Result<Value, CodecError> {
        self.skip_whitespace();
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            return Ok(Value::Null);
        }
        match ty {
            Type::Bool => match self.peek() {
                Some(b't') => self.literal("true").map(|_| Value::Bool(true)),
                Some(b'f') => self.literal("false").map(|_| Value::Bool(false)),
                Some(b'"') => match self.string()?.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ => Err(self
                        .trail
                        .error("expected a bool, found a string other than \"true\" or \"false\"")),
                },
                _ => Err(self.mismatch(ty.kind())),
            },
            Type::Number => {
                let text = match self.peek() {
                    Some(b'"') => self.string()?,
                    Some(b'-' | b'0'..=b'9') => self.number_text()?.to_string(),
                    _ => return Err(self.mismatch(ty.kind())),
                };
                Number::parse(&text).map(Value::Number).ok_or_else(|| {
                    self.trail
                        .error("expected a number, found a string that is not a decimal number")
                })
            }
            Type::String => match self.peek() {
                Some(b'"') => self.string().map(Value::String),
                Some(b'-' | b'0'..=b'9') => Ok(Value::String(self.number_text()?.to_string())),
                Some(b't') => self.literal("true").map(|_| Value::string("true")),
                Some(b'f') => self.literal("false").map(|_| Value::string("false")),
                _ => Err(self.mismatch(ty.kind())),
            },
            Type::List(element) => self.array(ty.kind(), |_| Some(&**element)).map(Value::List),
            Type::Set(element) => {
                let items = self.array(ty.kind(), |_| Some(&**element))?;
                check_set_unique(&mut self.trail, element, &items)?;
                Ok(Value::Set(items))
            }
            Type::Tuple(elements) => {
                let items = self.array(ty.kind(), |i| elements.get(i))?;
                if items.len() < elements.len() {
                    return Err(self.trail.error(format!(
                        "expected a tuple of {} element(s), found an array of {}",
                        elements.len(),
                        items.len()
                    )));
                }
                Ok(Value::Tuple(items))
            }
            Type::Map(element) => self.map(element),
            Type::Object(attrs) => self.object(attrs),
            Type::Dynamic => self.dynamic(),
        }
    }

    /// Elements of an array, the `i`th of type `type_of(i)`; `None` means the
    /// array is longer than a tuple type allows.
    fn array<'t>(
        &mut self,
        what: &str,
        type_of: impl Fn(usize) -> Option<&'t Type>,
    ) -> Result<Vec<Value>, CodecError> {
        if self.peek() != Some(b'[') {
            return Err(self.mismatch(what));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            let index = items.len();
            let Some(ty) = type_of(index) else {
                return Err(self.trail.error(format!(
                    "expected a tuple of {index} element(s), found an array of more"
                )));
            };
            self.trail.enter(Some(PathStep::Index(index as i64)))?;
            items.push(self.value(ty)?);
            self.trail.leave();
            if !self.separator(b']')? {
                return Ok(items);
            }
        }
    }

    fn map(&mut self, element: &Type) -> Result<Value, CodecError> {
        let mut entries = BTreeMap::new();
        self.members("a map", |p, key| {
            p.trail.enter(Some(PathStep::Key(key.clone())))?;
            if entries.contains_key(&key) {
                return Err(p.trail.error("duplicate map key"));
            }
            let value = p.value(element)?;
            p.trail.leave();
            entries.insert(key, value);
            Ok(())
        })?;
        Ok(Value::Map(entries))
    }

    fn object(&mut self, attrs: &BTreeMap<String, Type>) -> Result<Value, CodecError> {
        let mut values = BTreeMap::new();
        self.members("an object", |p, name| {
            let Some(ty) = attrs.get(&name) else {
                if p.removed_attributes == Removed::Skip {
                    return p.skip_value();
                }
                return Err(p.trail.error(format!(
                    "unexpected attribute {name:?}: the object type has no such attribute"
                )));
            };
            p.trail.enter(Some(PathStep::Attr(name.clone())))?;
            if values.contains_key(&name) {
                return Err(p.trail.error("duplicate attribute"));
            }
            let value = p.value(ty)?;
            p.trail.leave();
            values.insert(name, value);
            Ok(())
        })?;
        for name in attrs.keys() {
            if !values.contains_key(name) {
                values.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(values))
    }

    /// `{"value": ..., "type": ...}` in either order: the value is skipped
    /// over first and parsed once the type is known.
    fn dynamic(&mut self) -> Result<Value, CodecError> {
        const WHAT: &str = "a dynamic value as {\"value\": ..., \"type\": ...}";
        let mut ty = None;
        let mut value_at = None;
        self.members(WHAT, |p, key| {
            p.skip_whitespace();
            let start = p.pos;
            match key.as_str() {
                "type" if ty.is_none() => {
                    p.skip_value()?;
                    let json = &p.text.as_bytes()[start..p.pos];
                    let parsed = Type::from_json_bytes(json).map_err(|e| {
                        p.trail
                            .error(format!("invalid type of a dynamic value: {}", e.message))
                    })?;
                    ty = Some(parsed);
                }
                "value" if value_at.is_none() => {
                    p.skip_value()?;
                    value_at = Some(start);
                }
                "type" | "value" => {
                    return Err(p
                        .trail
                        .error(format!("duplicate {key:?} in a dynamic value")));
                }
                _ => {
                    return Err(p
                        .trail
                        .error(format!("unexpected key {key:?} in a dynamic value")));
                }
            }
            Ok(())
        })?;
        let (Some(ty), Some(start)) = (ty, value_at) else {
            return Err(self.trail.error(format!(
                "expected {WHAT}, found an object without both keys"
            )));
        };
        let end = self.pos;
        self.pos = start;
        self.trail.enter(None)?;
        let value = self.value(&ty)?;
        self.trail.leave();
        self.pos = end;
        Ok(match ty {
            // As in msgpack: a value typed dynamic is already final.
            Type::Dynamic => value,
            ty => Value::Dynamic(ty, Box::new(value)),
        })
    }

    /// Runs `member` for each key of an object, positioned at its value.
    fn members(
        &mut self,
        what: &str,
        mut member: impl FnMut(&mut Self, String) -> Result<(), CodecError>,
    ) -> Result<(), CodecError> {
        if self.peek() != Some(b'{') {
            return Err(self.mismatch(what));
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a string object key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.syntax("expected ':' after an object key"));
            }
            self.pos += 1;
            member(self, key)?;
            if !self.separator(b'}')? {
                return Ok(());
            }
        }
    }

    /// After an element: true at ',' (more follow), false at `close`.
    fn separator(&mut self, close: u8) -> Result<bool, CodecError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.syntax(&format!("expected ',' or '{}'", close as char))),
        }
    }

    /// Checks the syntax of one value of any shape and moves past it.
    fn skip_value(&mut self) -> Result<(), CodecError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => {
                self.trail.enter(None)?;
                self.members("an object", |p, _| p.skip_value())?;
                self.trail.leave();
            }
            Some(b'[') => {
                self.trail.enter(None)?;
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_value()?;
                        if !self.separator(b']')? {
                            break;
                        }
                    }
                }
                self.trail.leave();
            }
            Some(b'"') => {
                self.string()?;
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number_text()?;
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            _ => return Err(self.syntax("expected a JSON value")),
        }
        Ok(())
    }

    /// A JSON number's text: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number_text(&mut self) -> Result<&str, CodecError> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("invalid number")),
        }
        if self.eat(b'.') {
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number: expected a digit after '.'"));
            }
            self.digits();
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(&self.text[start..self.pos])
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// A string literal, unescaped; `pos` is at its opening quote.
    fn string(&mut self) -> Result<String, CodecError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(run) = self.text.as_bytes()[self.pos..]
                .iter()
                .position(|b| matches!(b, b'"' | b'\\') || *b < 0x20)
            else {
                self.pos = self.text.len();
                return Err(self.syntax("unterminated string"));
            };
            out.push_str(&self.text[self.pos..self.pos + run]);
            self.pos += run;
            match self.text.as_bytes()[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    out.push(self.escape()?);
                }
                _ => return Err(self.syntax("control character in string: it must be escaped")),
            }
        }
    }

    /// The character of an escape sequence; `pos` is just after the `\`.
    fn escape(&mut self) -> Result<char, CodecError> {
        let Some(b) = self.peek() else {
            return Err(self.syntax("unterminated string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xd800..=0xdbff => {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(self.syntax("unpaired surrogate in \\u escape"));
                        }
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.syntax("unpaired surrogate in \\u escape"));
                        }
                        0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(self.syntax("unpaired surrogate in \\u escape")),
                    unit => u32::from(unit),
                };
                char::from_u32(code).ok_or_else(|| self.syntax("invalid \\u escape"))?
            }
            _ => {
                self.pos -= 1;
                return Err(self.syntax("invalid escape in string"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u16, CodecError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.syntax("expected four hex digits in \\u escape"))?;
        self.pos += 4;
        u16::from_str_radix(digits, 16)
            .map_err(|_| self.syntax("expected four hex digits in \\u escape"))
    }

    fn literal(&mut self, word: &str) -> Result<(), CodecError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Malformed JSON, located by byte offset as well as path.
    fn syntax(&self, message: &str) -> CodecError {
        let found = match self.peek() {
            None => "the end of the input".to_string(),
            Some(_) => format!("byte {}", self.pos),
        };
        self.trail
            .error(format!("invalid JSON: {message} at {found}"))
    }

    /// A well-formed value of the wrong kind.
    fn mismatch(&self, expected: &str) -> CodecError {
        let found = match self.peek() {
            None => "the end of the input",
            Some(b'{') => "a JSON object",
            Some(b'[') => "a JSON array",
            Some(b'"') => "a JSON string",
            Some(b'-' | b'0'..=b'9') => "a JSON number",
            Some(b't' | b'f') => "a JSON bool",
            Some(b'n') => "null",
            Some(_) => return self.syntax(&format!("expected {expected}")),
        };
        self.trail
            .error(format!("expected {expected}, found {found}"))
    }
}

struct Encoder {
    out: Vec<u8>,
    trail: Trail,
}

impl Encoder {
    fn value(&mut self, ty: &Type, v: &Value) -> Result<(), CodecError> {
        match (ty, v) {
            (_, Value::Unknown(_)) => {
                return Err(self
                    .trail
                    .error("an unknown value cannot be encoded as JSON"));
            }
            (_, Value::Null) => self.raw("null"),
            (Type::Dynamic, Value::Dynamic(Type::Dynamic, _)) => {
                return Err(self
                    .trail
                    .error("a dynamic value must name a concrete type, found the type dynamic"));
            }
            (Type::Dynamic, Value::Dynamic(actual, inner)) => {
                self.trail.enter(None)?;
                self.raw("{\"value\":");
                self.value(actual, inner)?;
                self.raw(",\"type\":");
                self.out.extend_from_slice(&actual.to_json_bytes());
                self.raw("}");
                self.trail.leave();
            }
            (Type::Bool, Value::Bool(b)) => self.raw(if *b { "true" } else { "false" }),
            (Type::Number, Value::Number(n)) => self.number(n)?,
            (Type::String, Value::String(s)) => self.string(s),
            (Type::List(element), Value::List(items)) => {
                self.array(std::iter::repeat_n(&**element, items.len()), items)?;
            }
            (Type::Set(element), Value::Set(items)) => {
                self.array(std::iter::repeat_n(&**element, items.len()), items)?;
                check_set_unique(&mut self.trail, element, items)?;
            }
            (Type::Tuple(elements), Value::Tuple(items)) => {
                if elements.len() != items.len() {
                    return Err(self.trail.error(format!(
                        "expected a tuple of {} element(s), found one of {}",
                        elements.len(),
                        items.len()
                    )));
                }
                self.array(elements.iter(), items)?;
            }
            (Type::Map(element), Value::Map(entries)) => {
                let members = entries
                    .iter()
                    .map(|(k, v)| (k, PathStep::Key(k.clone()), &**element, v));
                self.members(members)?;
            }
            (Type::Object(attrs), Value::Object(values)) => {
                if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(self.trail.error(format!(
                        "unexpected attribute {extra:?}: the object type has no such attribute"
                    )));
                }
                let members = attrs.iter().map(|(name, ty)| {
                    let value = values.get(name).unwrap_or(&Value::Null);
                    (name, PathStep::Attr(name.clone()), ty, value)
                });
                self.members(members)?;
            }
            (ty, v) => {
                return Err(self.trail.error(format!(
                    "expected {}, found {}",
                    ty.kind(),
                    v.kind()
                )));
            }
        }
        Ok(())
    }

    fn array<'t>(
        &mut self,
        types: impl Iterator<Item = &'t Type>,
        items: &[Value],
    ) -> Result<(), CodecError> {
        self.raw("[");
        for (i, (ty, item)) in types.zip(items).enumerate() {
            if i > 0 {
                self.raw(",");
            }
            self.trail.enter(Some(PathStep::Index(i as i64)))?;
            self.value(ty, item)?;
            self.trail.leave();
        }
        self.raw("]");
        Ok(())
    }

    fn members<'v>(
        &mut self,
        members: impl Iterator<Item = (&'v String, PathStep, &'v Type, &'v Value)>,
    ) -> Result<(), CodecError> {
        self.raw("{");
        for (i, (key, step, ty, value)) in members.enumerate() {
            if i > 0 {
                self.raw(",");
            }
            self.trail.enter(Some(step))?;
            self.string(key);
            self.raw(":");
            self.value(ty, value)?;
            self.trail.leave();
        }
        self.raw("}");
        Ok(())
    }

    fn number(&mut self, n: &Number) -> Result<(), CodecError> {
        match n {
            Number::Int(i) => self.raw(&i.to_string()),
            // The exact value, not the shortest text that reads back as the
            // same f64: decoders take a text as the decimal it spells.
            Number::Float(f) => match Decimal::of_f64(*f) {
                Some(decimal) => self.raw(&decimal.to_string()),
                None => {
                    return Err(self
                        .trail
                        .error(format!("{f} cannot be encoded as a JSON number")));
                }
            },
            Number::Big(text) if Decimal::parse(text).is_none() => {
                return Err(self
                    .trail
                    .error(format!("{text:?} is not a decimal number")));
            }
            Number::Big(text) if is_json_number(text) => self.raw(text),
            Number::Big(text) => self.string(text),
        }
        Ok(())
    }

    /// A JSON string literal. Only what JSON requires is escaped.
    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        for c in s.chars() {
            match c {
                '"' => self.raw("\\\""),
                '\\' => self.raw("\\\\"),
                '\n' => self.raw("\\n"),
                '\r' => self.raw("\\r"),
                '\t' => self.raw("\\t"),
                c if u32::from(c) < 0x20 => self.raw(&format!("\\u{:04x}", u32::from(c))),
                c => {
                    let mut buf = [0; 4];
                    self.raw(c.encode_utf8(&mut buf));
                }
            }
        }
        self.out.push(b'"');
    }

    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }
}

/// Whether `text` is exactly one JSON number, checked with the parser's own
/// grammar so encoder and decoder agree.
fn is_json_number(text: &str) -> bool {
    let mut parser = Parser {
        text,
        pos: 0,
        trail: Trail::default(),
        removed_attributes: Removed::Refuse,
    };
    parser.number_text().is_ok() && parser.pos == text.len()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::arbitrary::{Wire, any_type, typed_value};
    use crate::value::{Refinements, msgpack};

    fn obj(attrs: &[(&str, Value)]) -> Value {
        Value::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn num(n: Number) -> Value {
        Value::Number(n)
    }

    #[test]
    fn exact_text_both_ways() {
        let person = Type::object([
            (
                "inner",
                Type::object([("id", Type::Number), ("opt", Type::Bool)]),
            ),
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
        ]);
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, Value, &str)> = vec![
            ("bool", Type::Bool, Value::Bool(true), "true"),
            ("int", Type::Number, num(Number::Int(-42)), "-42"),
            ("float", Type::Number, num(Number::Float(0.125)), "0.125"),
            ("inexact float as its exact value", Type::Number, num(Number::Float(0.1)), "0.1000000000000000055511151231257827021181583404541015625"),
            ("large float", Type::Number, num(Number::Float(2f64.powi(70))), "1.180591620717411303424e21"),
            ("decimal no f64 holds", Type::Number, num(Number::Big("0.1".into())), "0.1"),
            ("big", Type::Number, num(Number::Big("18446744073709551617".into())), "18446744073709551617"),
            ("big with plus sign", Type::Number, num(Number::Big("+1e400".into())), "\"+1e400\""),
            ("escapes", Type::String, Value::string("a\"\\\n\t\u{1}é😀/"), r#""a\"\\\n\t\u0001é😀/""#),
            ("null", Type::String, Value::Null, "null"),
            ("list", Type::list(Type::Number), Value::List(vec![num(Number::Int(1)), Value::Null]), "[1,null]"),
            ("set", Type::set(Type::String), Value::Set(vec![Value::string("b"), Value::string("a")]), r#"["b","a"]"#),
            ("map", Type::map(Type::Bool), Value::Map([("k".to_string(), Value::Bool(false))].into()), r#"{"k":false}"#),
            ("tuple", Type::Tuple(vec![Type::String, Type::Bool]), Value::Tuple(vec![Value::string("a"), Value::Null]), r#"["a",null]"#),
            ("nested object with a null", person, obj(&[("inner", obj(&[("id", num(Number::Int(7))), ("opt", Value::Null)])), ("name", Value::string("n")), ("tags", Value::Null)]), r#"{"inner":{"id":7,"opt":null},"name":"n","tags":null}"#),
            ("dynamic", Type::Dynamic, Value::Dynamic(Type::list(Type::String), Box::new(Value::List(vec![Value::string("x")]))), r#"{"value":["x"],"type":["list","string"]}"#),
            ("dynamic null", Type::Dynamic, Value::Null, "null"),
            ("dynamic typed null", Type::Dynamic, Value::Dynamic(Type::Number, Box::new(Value::Null)), r#"{"value":null,"type":"number"}"#),
        ];
        for (name, ty, value, text) in cases {
            assert_eq!(
                encode(&ty, &value).map(String::from_utf8),
                Ok(Ok(text.to_string())),
                "encode {name}"
            );
            assert_eq!(decode(&ty, text.as_bytes()), Ok(value), "decode {name}");
        }
    }

    #[test]
    fn lenient_decoding() {
        let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, &str, Value)> = vec![
            ("whitespace", Type::list(Type::Bool), " [ true ,\n\tfalse ] \r\n", Value::List(vec![Value::Bool(true), Value::Bool(false)])),
            ("number as string", Type::Number, r#""12.5""#, num(Number::Float(12.5))),
            ("big integer exact", Type::Number, "123456789012345678901234567890", num(Number::Big("123456789012345678901234567890".into()))),
            ("exponent", Type::Number, "1E3", num(Number::Int(1000))),
            ("string from number", Type::String, "-1.50", Value::string("-1.50")),
            ("string from bool", Type::String, "true", Value::string("true")),
            ("bool from string", Type::Bool, r#""false""#, Value::Bool(false)),
            ("surrogate pair", Type::String, r#""\ud83d\ude00\u00e9""#, Value::string("😀é")),
            ("missing attributes are null", ab.clone(), r#"{"b":1}"#, obj(&[("a", Value::Null), ("b", num(Number::Int(1)))])),
            ("type before value", Type::Dynamic, r#"{"type":"bool","value":true}"#, Value::Dynamic(Type::Bool, Box::new(Value::Bool(true)))),
            ("dynamic in dynamic", Type::Dynamic, r#"{"value":{"value":1,"type":"number"},"type":"dynamic"}"#, Value::Dynamic(Type::Number, Box::new(num(Number::Int(1))))),
            ("optional attrs in dynamic type", Type::Dynamic, r#"{"value":{},"type":["object",{"a":"string"},["a"]]}"#, Value::Dynamic(Type::object([("a", Type::String)]), Box::new(obj(&[("a", Value::Null)])))),
        ];
        for (name, ty, text, want) in cases {
            assert_eq!(decode(&ty, text.as_bytes()), Ok(want), "{name}");
        }
    }

    #[test]
    fn malformed_input_is_rejected_with_path() {
        let deep_type = (0..70).fold(Type::Number, |t, _| Type::list(t));
        let deep_text = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        let deep_path = "[0]".repeat(64);
        let deep_dynamic = format!(
            "{}1{}",
            r#"{"type":"dynamic","value":"#.repeat(70),
            "}".repeat(70)
        );
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, &[u8], &str, &str)> = vec![
            ("empty", Type::String, b"", "expected a string, found the end of the input", ""),
            ("not UTF-8", Type::String, b"\"\xff\"", "JSON is not valid UTF-8 (at byte 1)", ""),
            ("truncated array", Type::list(Type::Number), b"[1,", "expected a number, found the end of the input", "[1]"),
            ("truncated string", Type::String, b"\"abc", "invalid JSON: unterminated string at the end of the input", ""),
            ("trailing bytes", Type::Number, b"1 2", "invalid JSON: expected the end of the input after the value at byte 2", ""),
            ("wrong kind", Type::Bool, b"[]", "expected a bool, found a JSON array", ""),
            ("bad bool string", Type::Bool, b"\"yes\"", "expected a bool, found a string other than \"true\" or \"false\"", ""),
            ("bad number string", Type::Number, b"\"1x\"", "expected a number, found a string that is not a decimal number", ""),
            ("bad number", Type::Number, b"01", "invalid JSON: expected the end of the input after the value at byte 1", ""),
            ("bad fraction", Type::Number, b"1.", "invalid JSON: invalid number: expected a digit after '.' at the end of the input", ""),
            ("bad literal", Type::Bool, b"tru", "invalid JSON: invalid literal at byte 0", ""),
            ("garbage", Type::String, b"@", "invalid JSON: expected a string at byte 0", ""),
            ("control character", Type::String, b"\"a\nb\"", "invalid JSON: control character in string: it must be escaped at byte 2", ""),
            ("bad escape", Type::String, b"\"\\x\"", "invalid JSON: invalid escape in string at byte 2", ""),
            ("lone surrogate", Type::String, b"\"\\udc00\"", "invalid JSON: unpaired surrogate in \\u escape at byte 7", ""),
            ("missing comma", Type::list(Type::Bool), b"[true false]", "invalid JSON: expected ',' or ']' at byte 6", ""),
            ("wrong kind in object", Type::object([("a", Type::map(Type::Number))]), br#"{"a":{"k":true}}"#, "expected a number, found a JSON bool", "a[\"k\"]"),
            ("extra attribute", Type::object([("a", Type::String)]), br#"{"a":"x","b":null}"#, "unexpected attribute \"b\": the object type has no such attribute", ""),
            ("duplicate attribute", Type::object([("a", Type::String)]), br#"{"a":"x","a":"y"}"#, "duplicate attribute", "a"),
            ("duplicate map key", Type::map(Type::String), br#"{"a":"x","a":"y"}"#, "duplicate map key", "[\"a\"]"),
            ("duplicate set element", Type::set(Type::Number), b"[1,2,1.0]", "duplicate set element: equal to an earlier element", "[2]"),
            ("tuple too short", Type::Tuple(vec![Type::Bool, Type::Bool]), b"[true]", "expected a tuple of 2 element(s), found an array of 1", ""),
            ("tuple too long", Type::Tuple(vec![Type::Bool]), b"[true,false]", "expected a tuple of 1 element(s), found an array of more", ""),
            ("non-string key", Type::map(Type::String), b"{1:2}", "invalid JSON: expected a string object key at byte 1", ""),
            ("dynamic without type", Type::Dynamic, br#"{"value":1}"#, "expected a dynamic value as {\"value\": ..., \"type\": ...}, found an object without both keys", ""),
            ("dynamic extra key", Type::Dynamic, br#"{"value":1,"type":"number","x":1}"#, "unexpected key \"x\" in a dynamic value", ""),
            ("dynamic bad type", Type::Dynamic, br#"{"value":1,"type":"integer"}"#, "invalid type of a dynamic value: unknown primitive type \"integer\"", ""),
            ("dynamic bad value", Type::list(Type::Dynamic), br#"[{"value":"x","type":"bool"}]"#, "expected a bool, found a string other than \"true\" or \"false\"", "[0]"),
            ("dynamic malformed value", Type::Dynamic, br#"{"value":[1,,"type":"bool"}"#, "invalid JSON: expected a JSON value at byte 12", ""),
            ("deep nesting", deep_type, deep_text.as_bytes(), "value is nested more than 64 levels deep", &deep_path),
            ("deep dynamic nesting", Type::Dynamic, deep_dynamic.as_bytes(), "value is nested more than 64 levels deep", ""),
        ];
        for (name, ty, text, message, path) in cases {
            let err = decode(&ty, text).expect_err(name);
            assert_eq!(err.message, message, "{name}");
            assert_eq!(err.path.to_string(), path, "{name}");
        }
    }

    #[test]
    fn values_json_cannot_carry() {
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, Value, &str, &str)> = vec![
            ("unknown", Type::list(Type::String), Value::List(vec![Value::unknown()]), "an unknown value cannot be encoded as JSON", "[0]"),
            ("refined unknown", Type::String, Value::Unknown(Refinements { nullable: Some(false), ..Default::default() }), "an unknown value cannot be encoded as JSON", ""),
            ("infinity", Type::Number, num(Number::Float(f64::INFINITY)), "inf cannot be encoded as a JSON number", ""),
            ("wrong kind", Type::map(Type::Bool), Value::Map([("k".to_string(), Value::string("x"))].into()), "expected a bool, found a string", "[\"k\"]"),
            ("bare value in dynamic slot", Type::Dynamic, Value::Bool(true), "expected a dynamic value, found a bool", ""),
            ("extra attribute", Type::object([]), obj(&[("a", Value::Null)]), "unexpected attribute \"a\": the object type has no such attribute", ""),
            ("duplicate set element", Type::set(Type::String), Value::Set(vec![Value::string("a"), Value::string("a")]), "duplicate set element: equal to an earlier element", "[1]"),
        ];
        for (name, ty, value, message, path) in cases {
            let err = encode(&ty, &value).expect_err(name);
            assert_eq!(err.message, message, "{name}");
            assert_eq!(err.path.to_string(), path, "{name}");
        }
    }

    /// Found by fuzzing: serde_json's shortest text for this f32-exact value
    /// differed from Rust's, and the decoder once judged "exact" by that text.
    #[test]
    fn fuzz_halfway_float_crosses_from_msgpack_to_json() {
        let value = msgpack::decode(&Type::Number, &[0xca, 0x43, 0x36, 0x2f, 0xca]).unwrap();
        assert_eq!(value, num(Number::Float(f64::from(182.18667_f32))));
        let text = encode(&Type::Number, &value).unwrap();
        assert_eq!(decode(&Type::Number, &text), Ok(value));
    }

    /// Found by fuzzing: a uint64 and the same number as a decimal string
    /// decoded to different representations, so one did not round-trip.
    #[test]
    fn fuzz_uint64_and_its_text_decode_alike() {
        let from_uint =
            msgpack::decode(&Type::Number, &[0xcf, 0xcf, 0xd0, 0, 0, 0, 0, 0, 0]).unwrap();
        let text = format!("{}", 0xcfd0_0000_0000_0000_u64);
        assert_eq!(decode(&Type::Number, text.as_bytes()), Ok(from_uint));
    }

    proptest! {
        #[test]
        fn round_trip((ty, value) in typed_value(Wire::Json)) {
            let text = encode(&ty, &value).expect("generated values conform");
            let decoded = decode(&ty, &text).expect("encoded values decode");
            prop_assert_eq!(&decoded, &value);
            prop_assert_eq!(encode(&ty, &decoded).expect("re-encode"), text);
        }

        #[test]
        fn arbitrary_text_never_panics(ty in any_type(), text in "[\\[\\]{}\",:0-9a-z\\\\. -]{0,40}") {
            if let Ok(value) = decode(&ty, text.as_bytes()) {
                let again = encode(&ty, &value).expect("decoded values re-encode");
                prop_assert_eq!(decode(&ty, &again), Ok(value));
            }
        }
    }
}
