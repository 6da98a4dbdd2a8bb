//! cty values as msgpack, the encoding of every `DynamicValue` Terraform sends.
//!
//! The rules (go-cty's `cty/msgpack` and Terraform's object-wire-format doc):
//! nil is null at any type; any msgpack extension is an unknown value, and
//! extension 12 carries refinements; numbers are ints, floats or decimal
//! strings; objects are maps with every attribute of the type; `dynamic` is a
//! `[type JSON, value]` array. Decoding checks the bytes against the type and
//! reports the path of the first mismatch; it never trusts a length prefix
//! further than the bytes that are actually there.

use std::collections::{BTreeMap, HashSet};

use rmp::Marker;
use rmp::encode::{self as enc, ByteBuf, ValueWriteError};

use super::decimal::Decimal;
use super::trail::Trail;
use super::{CodecError, Number, Refinements, Type, Value};
use crate::diag::PathStep;

/// Extension type of an unknown value with refinements. Every other
/// extension type is an unknown value whose payload is ignored.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// A plain unknown: fixext1 of type 0 with one zero byte, go-cty's compact
/// form (a zero-length ext takes one byte more).
const PLAIN_UNKNOWN: [u8; 3] = [0xd4, 0, 0];
/// go-cty refuses larger refinement payloads as an allocation attack.
const MAX_REFINEMENTS_LEN: usize = 1024;

/// Most elements reserved up front for an array, whatever its prefix says.
const PREALLOCATE_MAX: usize = 1024;

/// Refinement map keys.
const NULLNESS: i64 = 1;
const STRING_PREFIX: i64 = 2;
const NUMBER_LOWER: i64 = 3;
const NUMBER_UPPER: i64 = 4;
const LENGTH_LOWER: i64 = 5;
const LENGTH_UPPER: i64 = 6;

/// Decodes one msgpack value of type `ty` that must fill `bytes` exactly.
///
/// Objects may omit attributes (they decode as null) but may not carry ones
/// the type lacks. Sets may not repeat a wholly-known element. A nil or an
/// unknown in a `dynamic` slot decodes as plain `Null`/`Unknown`; anything
/// else there becomes `Value::Dynamic` with the type the wire names.
pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, CodecError> {
    let mut decoder = Decoder {
        input: bytes,
        trail: Trail::default(),
    };
    let value = decoder.value(ty)?;
    if !decoder.input.is_empty() {
        return Err(decoder.trail.error(format!(
            "expected the end of the input after the value, found {} more byte(s)",
            decoder.input.len()
        )));
    }
    Ok(value)
}

/// Encodes `v`, which must conform to `ty`, in the most compact msgpack forms.
///
/// Objects carry exactly the type's attributes, absent ones as nil. A value
/// in a `dynamic` slot must be `Null`, a plain `Unknown` or `Value::Dynamic`
/// with a concrete type. Refinements must suit the type (a string prefix
/// only on strings, and so on), as go-cty would reject them otherwise.
pub fn encode(ty: &Type, v: &Value) -> Result<Vec<u8>, CodecError> {
    encode_as(ty, v, false)
}

fn encode_as(ty: &Type, v: &Value, canonical: bool) -> Result<Vec<u8>, CodecError> {
    let mut encoder = Encoder {
        out: ByteBuf::new(),
        trail: Trail::default(),
        canonical,
    };
    encoder.value(ty, v)?;
    Ok(encoder.out.into_vec())
}

/// Rejects a set whose wholly-known elements repeat. cty sets cannot hold
/// duplicates, and a decoder that let them through would hand back a value
/// that re-encodes differently. Elements are compared by their canonical
/// msgpack bytes (numbers normalised, so `Float(1.0)` meets `Int(1)` and
/// `Big("0.10")` meets `Big("0.1")`): linear, where pairwise comparison
/// would let a large set cost quadratic time. Elements holding unknowns are
/// skipped: cty keeps those apart because they may still turn out different.
/// Limit: nested sets compare in their wire order, so `[1,2]` and `[2,1]` as
/// elements of a set of sets are not recognised as equal.
pub(crate) fn check_set_unique(
    trail: &mut Trail,
    element: &Type,
    items: &[Value],
) -> Result<(), CodecError> {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !item.is_wholly_known() {
            continue;
        }
        if !seen.insert(encode_as(element, item, true)?) {
            trail.enter(Some(PathStep::Index(i as i64)))?;
            return Err(trail.error("duplicate set element: equal to an earlier element"));
        }
    }
    Ok(())
}

struct Decoder<'a> {
    /// What is left to read.
    input: &'a [u8],
    trail: Trail,
}

impl<'a> Decoder<'a> {
    fn value(&mut self, ty: &Type) -> Result<Value, CodecError> {
        match self.input.first().map(|b| Marker::from_u8(*b)) {
            None => {
                return Err(self.trail.error(format!(
                    "expected {}, found the end of the input",
                    ty.kind()
                )));
            }
            Some(m) if ext_len_size(m).is_some() => return self.unknown(ty),
            Some(Marker::Null) => {
                self.input = &self.input[1..];
                return Ok(Value::Null);
            }
            Some(_) => {}
        }
        match ty {
            Type::Bool => match self.marker(ty.kind())? {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                m => Err(self.mismatch(ty.kind(), m)),
            },
            Type::Number => self.number().map(Value::Number),
            Type::String => self.text(ty.kind()).map(Value::String),
            Type::List(element) => {
                let len = self.array_len(ty.kind())?;
                self.elements(std::iter::repeat_n(&**element, len))
                    .map(Value::List)
            }
            Type::Set(element) => {
                let len = self.array_len(ty.kind())?;
                let items = self.elements(std::iter::repeat_n(&**element, len))?;
                check_set_unique(&mut self.trail, element, &items)?;
                Ok(Value::Set(items))
            }
            Type::Tuple(elements) => {
                let len = self.array_len(ty.kind())?;
                if len != elements.len() {
                    return Err(self.trail.error(format!(
                        "expected a tuple of {} element(s), found an array of {len}",
                        elements.len()
                    )));
                }
                self.elements(elements.iter()).map(Value::Tuple)
            }
            Type::Map(element) => self.map(element),
            Type::Object(attrs) => self.object(attrs),
            Type::Dynamic => self.dynamic(),
        }
    }

    /// Decodes one element per type, at indices 0, 1, ...
    fn elements<'t>(
        &mut self,
        types: impl ExactSizeIterator<Item = &'t Type>,
    ) -> Result<Vec<Value>, CodecError> {
        // The length prefix is untrusted: every element takes at least one
        // input byte, and a fixed cap keeps a short input from reserving
        // 64 bytes of `Value` per byte. Beyond that the Vec grows as usual.
        let mut items = Vec::with_capacity(types.len().min(self.input.len()).min(PREALLOCATE_MAX));
        for (i, ty) in types.enumerate() {
            self.trail.enter(Some(PathStep::Index(i as i64)))?;
            items.push(self.value(ty)?);
            self.trail.leave();
        }
        Ok(items)
    }

    fn map(&mut self, element: &Type) -> Result<Value, CodecError> {
        let len = self.map_len("a map")?;
        let mut entries = BTreeMap::new();
        for _ in 0..len {
            let key = self.text("a string map key")?;
            self.trail.enter(Some(PathStep::Key(key.clone())))?;
            if entries.contains_key(&key) {
                return Err(self.trail.error("duplicate map key"));
            }
            let value = self.value(element)?;
            self.trail.leave();
            entries.insert(key, value);
        }
        Ok(Value::Map(entries))
    }

    fn object(&mut self, attrs: &BTreeMap<String, Type>) -> Result<Value, CodecError> {
        let len = self.map_len("an object")?;
        let mut values = BTreeMap::new();
        for _ in 0..len {
            let name = self.text("a string attribute name")?;
            let Some(ty) = attrs.get(&name) else {
                return Err(self.trail.error(format!(
                    "unexpected attribute {name:?}: the object type has no such attribute"
                )));
            };
            self.trail.enter(Some(PathStep::Attr(name.clone())))?;
            if values.contains_key(&name) {
                return Err(self.trail.error("duplicate attribute"));
            }
            let value = self.value(ty)?;
            self.trail.leave();
            values.insert(name, value);
        }
        for name in attrs.keys() {
            if !values.contains_key(name) {
                values.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(values))
    }

    /// `[type JSON, value]`. go-cty writes the type as binary; text is
    /// accepted as well, as go-cty's own decoder does.
    fn dynamic(&mut self) -> Result<Value, CodecError> {
        let len = self.array_len("a dynamic value as a [type, value] array")?;
        if len != 2 {
            return Err(self.trail.error(format!(
                "expected a dynamic value as a [type, value] array, found an array of {len}"
            )));
        }
        let json = self.bytes("the type of a dynamic value as JSON bytes")?;
        let ty = Type::from_json_bytes(json).map_err(|e| {
            self.trail
                .error(format!("invalid type of a dynamic value: {}", e.message))
        })?;
        self.trail.enter(None)?;
        let value = self.value(&ty)?;
        self.trail.leave();
        Ok(match ty {
            // A value whose type is itself dynamic is already in its final
            // form (null, unknown or another wrapper): no double wrapping.
            Type::Dynamic => value,
            ty => Value::Dynamic(ty, Box::new(value)),
        })
    }

    fn unknown(&mut self, ty: &Type) -> Result<Value, CodecError> {
        let marker = self.marker("an extension")?;
        let (ext_type, payload) = self.ext_body(marker)?;
        // Terraform's wire format: any extension is an unknown; only type 12
        // with a payload says more (go-cty reads a 0- or 1-byte 12 as plain).
        if ext_type != REFINED_UNKNOWN_EXT || payload.len() <= 1 {
            return Ok(Value::unknown());
        }
        if payload.len() > MAX_REFINEMENTS_LEN {
            return Err(self.trail.error(format!(
                "unknown value refinements take {} bytes, more than the {MAX_REFINEMENTS_LEN} allowed",
                payload.len()
            )));
        }
        let rest = std::mem::replace(&mut self.input, payload);
        let value = self.refinements(ty)?;
        // Bytes after the refinement map are ignored, as go-cty does, to
        // leave room for future additions.
        self.input = rest;
        Ok(value)
    }

    /// The type and payload of an ext whose marker was just read.
    fn ext_body(&mut self, marker: Marker) -> Result<(i8, &'a [u8]), CodecError> {
        const WHAT: &str = "a msgpack extension";
        let len = match (marker, ext_len_size(marker)) {
            (Marker::FixExt1, _) => 1,
            (Marker::FixExt2, _) => 2,
            (Marker::FixExt4, _) => 4,
            (Marker::FixExt8, _) => 8,
            (Marker::FixExt16, _) => 16,
            (_, Some(size)) => self.uint(size, WHAT)? as usize,
            (m, None) => return Err(self.mismatch(WHAT, m)),
        };
        let ext_type = self.take(1, WHAT)?[0] as i8;
        Ok((ext_type, self.take(len, WHAT)?))
    }

    /// The refinement map in an extension payload, which `self.input` now is.
    fn refinements(&mut self, ty: &Type) -> Result<Value, CodecError> {
        let len = self.map_len("unknown value refinements as a map")?;
        // go-cty drops refinements of a dynamic unknown: nothing is known
        // about a value whose type is not known.
        if *ty == Type::Dynamic {
            return Ok(Value::unknown());
        }
        let mut r = Refinements::default();
        let mut definitely_null = false;
        for _ in 0..len {
            let key = self.integer("an integer refinement key")?;
            let fits = match key {
                NULLNESS => true,
                STRING_PREFIX => *ty == Type::String,
                NUMBER_LOWER | NUMBER_UPPER => *ty == Type::Number,
                LENGTH_LOWER | LENGTH_UPPER => ty.is_collection(),
                // Unknown keys are future refinements: skip them.
                _ => {
                    self.skip()?;
                    continue;
                }
            };
            if !fits {
                return Err(self.trail.error(format!(
                    "refinement key {key} does not apply to {}",
                    ty.kind()
                )));
            }
            match key {
                NULLNESS => {
                    definitely_null = self.boolean("a bool nullness refinement")?;
                    r.nullable = Some(definitely_null);
                }
                STRING_PREFIX => r.string_prefix = Some(self.text("a string prefix refinement")?),
                NUMBER_LOWER => r.number_lower = Some(self.number_bound()?),
                NUMBER_UPPER => r.number_upper = Some(self.number_bound()?),
                LENGTH_LOWER => {
                    r.length_lower = Some(self.integer("an integer length refinement")?)
                }
                _ => r.length_upper = Some(self.integer("an integer length refinement")?),
            }
        }
        // There is one null per type, so go-cty makes a "definitely null"
        // unknown the known null it must be.
        Ok(if definitely_null {
            Value::Null
        } else {
            Value::Unknown(r)
        })
    }

    fn number_bound(&mut self) -> Result<(Number, bool), CodecError> {
        const WHAT: &str = "a number bound as a [number, inclusive] array";
        let len = self.array_len(WHAT)?;
        if len != 2 {
            return Err(self
                .trail
                .error(format!("expected {WHAT}, found an array of {len}")));
        }
        Ok((
            self.number()?,
            self.boolean("a bool for whether the bound is inclusive")?,
        ))
    }

    fn number(&mut self) -> Result<Number, CodecError> {
        const WHAT: &str = "a number";
        let marker = self.marker(WHAT)?;
        let number = match marker {
            Marker::FixPos(n) => Number::Int(n.into()),
            Marker::FixNeg(n) => Number::Int(n.into()),
            Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => {
                Number::from_u64(self.uint(int_size(marker), WHAT)?)
            }
            Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => {
                Number::Int(self.int(int_size(marker), WHAT)?)
            }
            Marker::F32 => {
                let bits = self.uint(4, WHAT)? as u32;
                self.float(f32::from_bits(bits).into())?
            }
            Marker::F64 => {
                let bits = self.uint(8, WHAT)?;
                self.float(f64::from_bits(bits))?
            }
            m if text_len_size(m).is_some() => {
                let text = self.text_body(m, WHAT)?;
                Number::parse(&text).ok_or_else(|| {
                    self.trail.error(
                        "expected a number, found a msgpack string that is not a decimal number",
                    )
                })?
            }
            m => return Err(self.mismatch(WHAT, m)),
        };
        Ok(number)
    }

    /// cty has infinities but no NaN.
    fn float(&self, f: f64) -> Result<Number, CodecError> {
        if f.is_nan() {
            return Err(self.trail.error("expected a number, found a NaN float"));
        }
        Ok(Number::from_f64(f))
    }

    fn integer(&mut self, what: &str) -> Result<i64, CodecError> {
        match self.marker(what)? {
            Marker::FixPos(n) => Ok(n.into()),
            Marker::FixNeg(n) => Ok(n.into()),
            m @ (Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64) => {
                self.int(int_size(m), what)
            }
            m @ (Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64) => {
                let u = self.uint(int_size(m), what)?;
                i64::try_from(u).map_err(|_| {
                    self.trail
                        .error(format!("expected {what}, found {u}, out of range"))
                })
            }
            m => Err(self.mismatch(what, m)),
        }
    }

    fn boolean(&mut self, what: &str) -> Result<bool, CodecError> {
        match self.marker(what)? {
            Marker::True => Ok(true),
            Marker::False => Ok(false),
            m => Err(self.mismatch(what, m)),
        }
    }

    /// A msgpack string (or binary, which go-cty also takes) holding UTF-8.
    fn text(&mut self, what: &str) -> Result<String, CodecError> {
        let marker = self.marker(what)?;
        self.text_body(marker, what)
    }

    fn text_body(&mut self, marker: Marker, what: &str) -> Result<String, CodecError> {
        let bytes = self.bytes_body(marker, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(self.trail.error(format!(
                "expected {what}, found bytes that are not valid UTF-8"
            ))),
        }
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], CodecError> {
        let marker = self.marker(what)?;
        self.bytes_body(marker, what)
    }

    /// The payload of a str or bin whose marker was just read.
    fn bytes_body(&mut self, marker: Marker, what: &str) -> Result<&'a [u8], CodecError> {
        let len = match (marker, text_len_size(marker)) {
            (Marker::FixStr(n), _) => n.into(),
            (_, Some(size)) => self.uint(size, what)? as usize,
            (m, None) => return Err(self.mismatch(what, m)),
        };
        self.take(len, what)
    }

    fn array_len(&mut self, what: &str) -> Result<usize, CodecError> {
        match self.marker(what)? {
            Marker::FixArray(n) => Ok(n.into()),
            Marker::Array16 => Ok(self.uint(2, what)? as usize),
            Marker::Array32 => Ok(self.uint(4, what)? as usize),
            m => Err(self.mismatch(what, m)),
        }
    }

    fn map_len(&mut self, what: &str) -> Result<usize, CodecError> {
        match self.marker(what)? {
            Marker::FixMap(n) => Ok(n.into()),
            Marker::Map16 => Ok(self.uint(2, what)? as usize),
            Marker::Map32 => Ok(self.uint(4, what)? as usize),
            m => Err(self.mismatch(what, m)),
        }
    }

    /// Skips one value of any shape without recursing: nesting only adds to
    /// the count of values still to skip.
    fn skip(&mut self) -> Result<(), CodecError> {
        const WHAT: &str = "a refinement value";
        let mut pending: usize = 1;
        while pending > 0 {
            pending -= 1;
            let marker = self.marker(WHAT)?;
            let nested = match marker {
                Marker::FixArray(n) => n.into(),
                Marker::FixMap(n) => 2 * usize::from(n),
                Marker::Array16 | Marker::Array32 => self.uint(int_size(marker), WHAT)? as usize,
                Marker::Map16 | Marker::Map32 => 2 * self.uint(int_size(marker), WHAT)? as usize,
                m if text_len_size(m).is_some() => {
                    self.bytes_body(m, WHAT)?;
                    0
                }
                m if ext_len_size(m).is_some() => {
                    self.ext_body(m)?;
                    0
                }
                Marker::Reserved => return Err(self.mismatch(WHAT, marker)),
                m => {
                    self.take(int_size(m), WHAT)?;
                    0
                }
            };
            pending = pending.saturating_add(nested);
            if pending > self.input.len() {
                return Err(self.truncated(WHAT));
            }
        }
        Ok(())
    }

    fn marker(&mut self, what: &str) -> Result<Marker, CodecError> {
        let byte = self.take(1, what)?[0];
        Ok(Marker::from_u8(byte))
    }

    fn uint(&mut self, size: usize, what: &str) -> Result<u64, CodecError> {
        let bytes = self.take(size, what)?;
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A big-endian two's-complement integer of `size` bytes.
    fn int(&mut self, size: usize, what: &str) -> Result<i64, CodecError> {
        let raw = self.uint(size, what)?;
        let shift = 64 - 8 * size as u32;
        Ok(((raw << shift) as i64) >> shift)
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CodecError> {
        if n > self.input.len() {
            return Err(self.truncated(what));
        }
        let (head, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(head)
    }

    fn truncated(&self, what: &str) -> CodecError {
        self.trail
            .error(format!("expected {what}, found the end of the input"))
    }

    fn mismatch(&self, expected: &str, found: Marker) -> CodecError {
        self.trail
            .error(format!("expected {expected}, found {}", describe(found)))
    }
}

/// Bytes in the data that follows an int/float marker, zero for the rest.
fn int_size(marker: Marker) -> usize {
    match marker {
        Marker::U8 | Marker::I8 => 1,
        Marker::U16 | Marker::I16 | Marker::Array16 | Marker::Map16 => 2,
        Marker::U32 | Marker::I32 | Marker::F32 | Marker::Array32 | Marker::Map32 => 4,
        Marker::U64 | Marker::I64 | Marker::F64 => 8,
        _ => 0,
    }
}

/// For str/bin markers, the size of the length that follows (0 for fixstr).
fn text_len_size(marker: Marker) -> Option<usize> {
    match marker {
        Marker::FixStr(_) => Some(0),
        Marker::Str8 | Marker::Bin8 => Some(1),
        Marker::Str16 | Marker::Bin16 => Some(2),
        Marker::Str32 | Marker::Bin32 => Some(4),
        _ => None,
    }
}

/// For ext markers, the size of the length that follows (0 for fixext).
fn ext_len_size(marker: Marker) -> Option<usize> {
    match marker {
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16 => Some(0),
        Marker::Ext8 => Some(1),
        Marker::Ext16 => Some(2),
        Marker::Ext32 => Some(4),
        _ => None,
    }
}

fn describe(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "msgpack nil",
        Marker::True | Marker::False => "a msgpack bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "a msgpack integer",
        Marker::F32 | Marker::F64 => "a msgpack float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "a msgpack string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "msgpack binary data",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "a msgpack array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "a msgpack map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "a msgpack extension",
        Marker::Reserved => "the reserved byte 0xc1",
    }
}

struct Encoder {
    out: ByteBuf,
    trail: Trail,
    /// Write equal numbers identically, for comparing set elements.
    canonical: bool,
}

/// Writes into a `ByteBuf` cannot fail: its error type is uninhabited.
fn written<T>(result: Result<T, ValueWriteError<std::convert::Infallible>>) -> T {
    match result {
        Ok(v) => v,
        Err(ValueWriteError::InvalidMarkerWrite(e) | ValueWriteError::InvalidDataWrite(e)) => {
            match e {}
        }
    }
}

impl Encoder {
    fn value(&mut self, ty: &Type, v: &Value) -> Result<(), CodecError> {
        match (ty, v) {
            (_, Value::Null) => self.out.as_mut_vec().push(0xc0),
            (_, Value::Unknown(r)) => self.unknown(ty, r)?,
            (Type::Dynamic, Value::Dynamic(Type::Dynamic, _)) => {
                return Err(self
                    .trail
                    .error("a dynamic value must name a concrete type, found the type dynamic"));
            }
            (Type::Dynamic, Value::Dynamic(actual, inner)) => {
                self.trail.enter(None)?;
                self.array_header(2)?;
                let json = actual.to_json_bytes();
                let len = self.len_u32(json.len())?;
                written(enc::write_bin_len(&mut self.out, len));
                self.out.as_mut_vec().extend_from_slice(&json);
                self.value(actual, inner)?;
                self.trail.leave();
            }
            (Type::Bool, Value::Bool(b)) => {
                self.out.as_mut_vec().push(if *b { 0xc3 } else { 0xc2 })
            }
            (Type::Number, Value::Number(n)) => self.number(n)?,
            (Type::String, Value::String(s)) => self.str(s)?,
            (Type::List(element), Value::List(items)) => {
                self.array(std::iter::repeat_n(&**element, items.len()), items)?
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
                self.map_header(entries.len())?;
                for (key, value) in entries {
                    self.trail.enter(Some(PathStep::Key(key.clone())))?;
                    self.str(key)?;
                    self.value(element, value)?;
                    self.trail.leave();
                }
            }
            (Type::Object(attrs), Value::Object(values)) => {
                if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(self.trail.error(format!(
                        "unexpected attribute {extra:?}: the object type has no such attribute"
                    )));
                }
                self.map_header(attrs.len())?;
                for (name, ty) in attrs {
                    self.trail.enter(Some(PathStep::Attr(name.clone())))?;
                    self.str(name)?;
                    self.value(ty, values.get(name).unwrap_or(&Value::Null))?;
                    self.trail.leave();
                }
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
        self.array_header(items.len())?;
        for (i, (ty, item)) in types.zip(items).enumerate() {
            self.trail.enter(Some(PathStep::Index(i as i64)))?;
            self.value(ty, item)?;
            self.trail.leave();
        }
        Ok(())
    }

    fn number(&mut self, n: &Number) -> Result<(), CodecError> {
        match n {
            Number::Int(i) => {
                written(enc::write_sint(&mut self.out, *i));
            }
            Number::Float(f) if f.is_nan() => {
                return Err(self.trail.error("NaN is not a cty number"));
            }
            Number::Float(f) => match Number::from_f64(*f) {
                Number::Int(i) if self.canonical => {
                    written(enc::write_sint(&mut self.out, i));
                }
                _ => written(enc::write_f64(&mut self.out, *f)),
            },
            Number::Big(text) => match Decimal::parse(text) {
                None => {
                    return Err(self
                        .trail
                        .error(format!("{text:?} is not a decimal number")));
                }
                Some(decimal) if self.canonical => self.str(&decimal.to_string())?,
                Some(_) => self.str(text)?,
            },
        }
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), CodecError> {
        let len = self.len_u32(s.len())?;
        written(enc::write_str_len(&mut self.out, len));
        self.out.as_mut_vec().extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// A plain unknown as `d4 00 00`; a refined one as ext 12 around a map of
    /// only the refinements that are set, which are never none.
    fn unknown(&mut self, ty: &Type, r: &Refinements) -> Result<(), CodecError> {
        if r.is_empty() {
            self.out.as_mut_vec().extend_from_slice(&PLAIN_UNKNOWN);
            return Ok(());
        }
        let misfit = if *ty == Type::Dynamic {
            Some("any refinement")
        } else if r.string_prefix.is_some() && *ty != Type::String {
            Some("a string prefix")
        } else if (r.number_lower.is_some() || r.number_upper.is_some()) && *ty != Type::Number {
            Some("a number bound")
        } else if (r.length_lower.is_some() || r.length_upper.is_some()) && !ty.is_collection() {
            Some("a length bound")
        } else {
            None
        };
        if let Some(what) = misfit {
            return Err(self.trail.error(format!(
                "{what} cannot refine an unknown value of {}",
                ty.kind()
            )));
        }
        let mut body = Encoder {
            out: ByteBuf::new(),
            trail: Trail::default(),
            canonical: self.canonical,
        };
        let entries = [
            r.nullable.is_some(),
            r.string_prefix.is_some(),
            r.number_lower.is_some(),
            r.number_upper.is_some(),
            r.length_lower.is_some(),
            r.length_upper.is_some(),
        ];
        body.map_header(entries.iter().filter(|e| **e).count())?;
        if let Some(null) = r.nullable {
            written(enc::write_sint(&mut body.out, NULLNESS));
            body.out.as_mut_vec().push(if null { 0xc3 } else { 0xc2 });
        }
        if let Some(prefix) = &r.string_prefix {
            written(enc::write_sint(&mut body.out, STRING_PREFIX));
            body.str(prefix)?;
        }
        for (key, bound) in [
            (NUMBER_LOWER, &r.number_lower),
            (NUMBER_UPPER, &r.number_upper),
        ] {
            if let Some((n, inclusive)) = bound {
                written(enc::write_sint(&mut body.out, key));
                body.array_header(2)?;
                body.number(n)
                    .map_err(|e| self.trail.error(format!("number bound: {}", e.message)))?;
                body.out
                    .as_mut_vec()
                    .push(if *inclusive { 0xc3 } else { 0xc2 });
            }
        }
        for (key, bound) in [
            (LENGTH_LOWER, r.length_lower),
            (LENGTH_UPPER, r.length_upper),
        ] {
            if let Some(len) = bound {
                written(enc::write_sint(&mut body.out, key));
                written(enc::write_sint(&mut body.out, len));
            }
        }
        let payload = body.out.into_vec();
        let len = self.len_u32(payload.len())?;
        written(enc::write_ext_meta(&mut self.out, len, REFINED_UNKNOWN_EXT));
        self.out.as_mut_vec().extend_from_slice(&payload);
        Ok(())
    }

    fn array_header(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len_u32(len)?;
        written(enc::write_array_len(&mut self.out, len));
        Ok(())
    }

    fn map_header(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len_u32(len)?;
        written(enc::write_map_len(&mut self.out, len));
        Ok(())
    }

    fn len_u32(&self, len: usize) -> Result<u32, CodecError> {
        u32::try_from(len).map_err(|_| {
            self.trail
                .error(format!("length {len} is too large for msgpack"))
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::arbitrary::{Wire, any_type, typed_value};

    /// "92 a1 61" → bytes; `'text'` spans are taken as literal UTF-8.
    fn hex(spec: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, part) in spec.split('\'').enumerate() {
            if i % 2 == 1 {
                out.extend_from_slice(part.as_bytes());
            } else {
                for byte in part.split_whitespace() {
                    out.push(u8::from_str_radix(byte, 16).expect("test hex"));
                }
            }
        }
        out
    }

    fn obj(attrs: &[(&str, Value)]) -> Value {
        Value::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    fn refined(r: Refinements) -> Value {
        Value::Unknown(r)
    }

    /// Values whose encoding is exactly these bytes, and which decode back.
    #[test]
    fn exact_bytes_both_ways() {
        let str8 = format!("d9 20 '{}'", "x".repeat(32));
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
            ("true", Type::Bool, Value::Bool(true), "c3"),
            ("false", Type::Bool, Value::Bool(false), "c2"),
            ("fixint", Type::Number, int(1), "01"),
            ("negative fixint", Type::Number, int(-1), "ff"),
            ("uint16", Type::Number, int(300), "cd 01 2c"),
            ("int16", Type::Number, int(-200), "d1 ff 38"),
            ("int64 min", Type::Number, int(i64::MIN), "d3 80 00 00 00 00 00 00 00"),
            ("float", Type::Number, Value::Number(Number::Float(1.5)), "cb 3f f8 00 00 00 00 00 00"),
            ("infinity", Type::Number, Value::Number(Number::Float(f64::INFINITY)), "cb 7f f0 00 00 00 00 00 00"),
            ("big", Type::Number, Value::Number(Number::Big("18446744073709551617".into())), "b4 '18446744073709551617'"),
            ("string", Type::String, Value::string("hi"), "a2 'hi'"),
            ("str8", Type::String, Value::string("x".repeat(32)), &str8),
            ("null", Type::String, Value::Null, "c0"),
            ("plain unknown", Type::String, Value::unknown(), "d4 00 00"),
            ("list", Type::list(Type::String), Value::List(vec![Value::string("a")]), "91 a1 'a'"),
            ("set", Type::set(Type::Number), Value::Set(vec![int(1), int(2)]), "92 01 02"),
            ("map", Type::map(Type::Bool), Value::Map([("k".to_string(), Value::Bool(true))].into()), "81 a1 'k' c3"),
            ("tuple", Type::Tuple(vec![Type::String, Type::Bool]), Value::Tuple(vec![Value::string("a"), Value::Bool(false)]), "92 a1 'a' c2"),
            ("object with an absent attribute", Type::object([("a", Type::String), ("b", Type::Number)]), obj(&[("a", Value::string("x")), ("b", Value::Null)]), "82 a1 'a' a1 'x' a1 'b' c0"),
            ("nested object with a null and an unknown", person.clone(), obj(&[("inner", obj(&[("id", int(7)), ("opt", Value::Null)])), ("name", Value::unknown()), ("tags", Value::Null)]), "83 a5 'inner' 82 a2 'id' 07 a3 'opt' c0 a4 'name' d4 00 00 a4 'tags' c0"),
            ("refined string", Type::String, refined(Refinements { nullable: Some(false), string_prefix: Some("ab".into()), ..Default::default() }), "c7 07 0c 82 01 c2 02 a2 'ab'"),
            ("refined number", Type::Number, refined(Refinements { number_lower: Some((Number::Int(0), true)), ..Default::default() }), "c7 05 0c 81 03 92 00 c3"),
            // What go-cty sends for every unrefined unknown number.
            ("go-cty unknown number with infinite bounds", Type::Number, refined(Refinements { number_lower: Some((Number::Float(f64::NEG_INFINITY), false)), number_upper: Some((Number::Float(f64::INFINITY), false)), ..Default::default() }), "c7 19 0c 82 03 92 cb ff f0 00 00 00 00 00 00 c2 04 92 cb 7f f0 00 00 00 00 00 00 c2"),
            ("refined list length", Type::list(Type::String), refined(Refinements { length_lower: Some(1), length_upper: Some(2), ..Default::default() }), "c7 05 0c 82 05 01 06 02"),
            ("dynamic", Type::Dynamic, Value::Dynamic(Type::String, Box::new(Value::string("hi"))), "92 c4 08 '\"string\"' a2 'hi'"),
            ("dynamic list", Type::Dynamic, Value::Dynamic(Type::list(Type::Number), Box::new(Value::List(vec![int(1)]))), "92 c4 11 '[\"list\",\"number\"]' 91 01"),
            ("dynamic typed null", Type::Dynamic, Value::Dynamic(Type::String, Box::new(Value::Null)), "92 c4 08 '\"string\"' c0"),
            ("dynamic null", Type::Dynamic, Value::Null, "c0"),
            ("dynamic unknown", Type::Dynamic, Value::unknown(), "d4 00 00"),
        ];
        for (name, ty, value, bytes) in cases {
            let bytes = hex(bytes);
            assert_eq!(encode(&ty, &value), Ok(bytes.clone()), "encode {name}");
            assert_eq!(decode(&ty, &bytes), Ok(value), "decode {name}");
        }
    }

    /// Encodings this crate never writes but must read.
    #[test]
    fn lenient_decoding() {
        let inf_bounds = Refinements {
            number_lower: Some((Number::Float(f64::NEG_INFINITY), true)),
            ..Default::default()
        };
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, &str, Value)> = vec![
            ("uint8", Type::Number, "cc ff", int(255)),
            ("int8", Type::Number, "d0 80", int(-128)),
            ("uint64 beyond i64", Type::Number, "cf ff ff ff ff ff ff ff ff", Value::Number(Number::Big("18446744073709551615".into()))),
            ("float32", Type::Number, "ca 3f c0 00 00", Value::Number(Number::Float(1.5))),
            ("integral float", Type::Number, "cb 40 00 00 00 00 00 00 00", int(2)),
            ("decimal string", Type::Number, "a2 '12'", int(12)),
            ("decimal string float", Type::Number, "a3 '0.5'", Value::Number(Number::Float(0.5))),
            ("binary string", Type::String, "c4 01 'a'", Value::string("a")),
            ("other ext type", Type::String, "d6 05 01 02 03 04", Value::unknown()),
            ("ext 12 with a one-byte payload", Type::String, "d4 0c 00", Value::unknown()),
            ("unknown refinement key skipped", Type::String, "c7 09 0c 82 09 91 81 a1 'a' c0 01 c2", refined(Refinements { nullable: Some(false), ..Default::default() })),
            ("bytes after the refinement map", Type::Number, "c7 0f 0c 81 03 92 cb ff f0 00 00 00 00 00 00 c3 ff ff", refined(inf_bounds.clone())),
            ("definitely null collapses", Type::String, "c7 03 0c 81 01 c3", Value::Null),
            ("dynamic with text type", Type::Dynamic, "92 a8 '\"string\"' a2 'hi'", Value::Dynamic(Type::String, Box::new(Value::string("hi")))),
            ("dynamic drops refinements", Type::Dynamic, "c7 03 0c 81 01 c2", Value::unknown()),
            ("dynamic inside dynamic", Type::Dynamic, "92 c4 09 '\"dynamic\"' 92 c4 06 '\"bool\"' c3", Value::Dynamic(Type::Bool, Box::new(Value::Bool(true)))),
            ("dynamic typed unknown", Type::Dynamic, "92 c4 08 '\"number\"' c7 0d 0c 81 03 92 cb ff f0 00 00 00 00 00 00 c3", Value::Dynamic(Type::Number, Box::new(refined(inf_bounds)))),
            ("missing attributes are null", Type::object([("a", Type::String), ("b", Type::String)]), "81 a1 'a' a1 'x'", obj(&[("a", Value::string("x")), ("b", Value::Null)])),
            ("set of unknowns", Type::set(Type::String), "92 d4 00 00 d4 00 00", Value::Set(vec![Value::unknown(), Value::unknown()])),
        ];
        for (name, ty, bytes, want) in cases {
            assert_eq!(decode(&ty, &hex(bytes)), Ok(want), "{name}");
        }
    }

    #[test]
    fn malformed_input_is_rejected_with_path() {
        let deep_type = (0..70).fold(Type::Number, |t, _| Type::list(t));
        let deep_bytes = format!("{} 01", "91 ".repeat(70));
        let deep_path = "[0]".repeat(64);
        let deep_dynamic = format!("{} 01", "92 c4 09 '\"dynamic\"' ".repeat(70));
        let oversize = format!("c9 00 00 07 d0 0c 81 {}", "00 ".repeat(1999));
        let tags = Type::object([("tags", Type::map(Type::list(Type::Number)))]);
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, &str, &str, &str)> = vec![
            ("empty input", Type::String, "", "expected a string, found the end of the input", ""),
            ("truncated string", Type::String, "a5 'ab'", "expected a string, found the end of the input", ""),
            ("truncated list", Type::list(Type::Number), "92 01", "expected a number, found the end of the input", "[1]"),
            ("truncated length", Type::list(Type::Number), "dc 00", "expected a list, found the end of the input", ""),
            ("wrong kind", Type::Bool, "a1 'a'", "expected a bool, found a msgpack string", ""),
            ("reserved byte", Type::String, "c1", "expected a string, found the reserved byte 0xc1", ""),
            ("wrong kind in object", Type::object([("a", Type::Number)]), "81 a1 'a' c3", "expected a number, found a msgpack bool", "a"),
            ("wrong kind deep", tags, "81 a4 'tags' 81 a1 'k' 91 c3", "expected a number, found a msgpack bool", "tags[\"k\"][0]"),
            ("non-string map key", Type::map(Type::String), "81 01 a1 'a'", "expected a string map key, found a msgpack integer", ""),
            ("trailing bytes", Type::Number, "01 02 03", "expected the end of the input after the value, found 2 more byte(s)", ""),
            ("duplicate set element", Type::set(Type::String), "93 a1 'a' a1 'b' a1 'a'", "duplicate set element: equal to an earlier element", "[2]"),
            ("duplicate set number in two encodings", Type::set(Type::Number), "92 01 cb 3f f0 00 00 00 00 00 00", "duplicate set element: equal to an earlier element", "[1]"),
            ("duplicate map key", Type::map(Type::Number), "82 a1 'a' 01 a1 'a' 02", "duplicate map key", "[\"a\"]"),
            ("duplicate attribute", Type::object([("a", Type::Number)]), "82 a1 'a' 01 a1 'a' 02", "duplicate attribute", "a"),
            ("extra attribute", Type::object([("a", Type::String)]), "82 a1 'a' a1 'x' a1 'b' c0", "unexpected attribute \"b\": the object type has no such attribute", ""),
            ("tuple too long", Type::Tuple(vec![Type::String]), "92 a1 'a' a1 'b'", "expected a tuple of 1 element(s), found an array of 2", ""),
            ("invalid UTF-8", Type::String, "a1 ff", "expected a string, found bytes that are not valid UTF-8", ""),
            ("NaN", Type::Number, "cb 7f f8 00 00 00 00 00 00", "expected a number, found a NaN float", ""),
            ("not a decimal", Type::Number, "a3 'abc'", "expected a number, found a msgpack string that is not a decimal number", ""),
            ("absurd array length", Type::list(Type::String), "dd ff ff ff ff", "expected a string, found the end of the input", "[0]"),
            ("absurd string length", Type::String, "db ff ff ff ff 'a'", "expected a string, found the end of the input", ""),
            ("absurd map length", Type::map(Type::String), "df ff ff ff ff", "expected a string map key, found the end of the input", ""),
            ("absurd ext length", Type::String, "c9 ff ff ff ff 0c", "expected a msgpack extension, found the end of the input", ""),
            ("absurd skipped array", Type::String, "c7 06 0c 82 09 dd ff ff ff ff", "expected a refinement value, found the end of the input", ""),
            ("oversize refinements", Type::String, &oversize, "unknown value refinements take 2000 bytes, more than the 1024 allowed", ""),
            ("refinement for another type", Type::Number, "c7 04 0c 81 02 a1 'a'", "refinement key 2 does not apply to a number", ""),
            ("refinements not a map", Type::String, "d5 0c 91 c0", "expected unknown value refinements as a map, found a msgpack array", ""),
            ("bad number bound", Type::Number, "c7 04 0c 81 03 91 00", "expected a number bound as a [number, inclusive] array, found an array of 1", ""),
            ("dynamic not a pair", Type::Dynamic, "91 c0", "expected a dynamic value as a [type, value] array, found an array of 1", ""),
            ("dynamic bad type", Type::Dynamic, "92 c4 05 '\"foo\"' c0", "invalid type of a dynamic value: unknown primitive type \"foo\"", ""),
            ("dynamic value of wrong type", Type::list(Type::Dynamic), "91 92 c4 06 '\"bool\"' 01", "expected a bool, found a msgpack integer", "[0]"),
            ("deep nesting", deep_type, &deep_bytes, "value is nested more than 64 levels deep", &deep_path),
            ("deep dynamic nesting", Type::Dynamic, &deep_dynamic, "value is nested more than 64 levels deep", ""),
        ];
        for (name, ty, bytes, message, path) in cases {
            let err = decode(&ty, &hex(bytes)).expect_err(name);
            assert_eq!(err.message, message, "{name}");
            assert_eq!(err.path.to_string(), path, "{name}");
        }
    }

    #[test]
    fn nonconforming_values_are_not_encoded() {
        #[rustfmt::skip]
        let cases: Vec<(&str, Type, Value, &str, &str)> = vec![
            ("wrong kind", Type::String, Value::Bool(true), "expected a string, found a bool", ""),
            ("bare value in dynamic slot", Type::Dynamic, Value::string("a"), "expected a dynamic value, found a string", ""),
            ("dynamic of dynamic", Type::Dynamic, Value::Dynamic(Type::Dynamic, Box::new(Value::Null)), "a dynamic value must name a concrete type, found the type dynamic", ""),
            ("extra attribute", Type::object([("a", Type::String)]), obj(&[("b", Value::Null)]), "unexpected attribute \"b\": the object type has no such attribute", ""),
            ("tuple length", Type::Tuple(vec![Type::Bool]), Value::Tuple(vec![]), "expected a tuple of 1 element(s), found one of 0", ""),
            ("duplicate set element", Type::set(Type::Number), Value::Set(vec![int(1), Value::Number(Number::Float(1.0))]), "duplicate set element: equal to an earlier element", "[1]"),
            ("NaN", Type::list(Type::Number), Value::List(vec![Value::Number(Number::Float(f64::NAN))]), "NaN is not a cty number", "[0]"),
            ("bad big number", Type::Number, Value::Number(Number::Big("12x".into())), "\"12x\" is not a decimal number", ""),
            ("misplaced refinement", Type::Number, refined(Refinements { string_prefix: Some("a".into()), ..Default::default() }), "a string prefix cannot refine an unknown value of a number", ""),
            ("refined dynamic", Type::Dynamic, refined(Refinements { nullable: Some(false), ..Default::default() }), "any refinement cannot refine an unknown value of a dynamic value", ""),
            ("length on an object", Type::object([]), refined(Refinements { length_lower: Some(1), ..Default::default() }), "a length bound cannot refine an unknown value of an object", ""),
        ];
        for (name, ty, value, message, path) in cases {
            let err = encode(&ty, &value).expect_err(name);
            assert_eq!(err.message, message, "{name}");
            assert_eq!(err.path.to_string(), path, "{name}");
        }
    }

    proptest! {
        #[test]
        fn round_trip((ty, value) in typed_value(Wire::Msgpack)) {
            let bytes = encode(&ty, &value).expect("generated values conform");
            let decoded = decode(&ty, &bytes).expect("encoded values decode");
            prop_assert_eq!(&decoded, &value);
            prop_assert_eq!(encode(&ty, &decoded).expect("re-encode"), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(ty in any_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(value) = decode(&ty, &bytes) {
                let again = encode(&ty, &value).expect("decoded values re-encode");
                prop_assert_eq!(decode(&ty, &again), Ok(value));
            }
        }
    }
}
