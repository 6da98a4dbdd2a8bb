//! Decodes arbitrary bytes as msgpack and as JSON against a type taken from
//! the input, and checks that whatever decodes survives a round trip.
//!
//! Input layout: `T<type JSON>\n<payload>` parses the type JSON (exercising
//! `Type::from_json_bytes` too); anything else derives the type from its
//! leading bytes (see `derive_type`) and the rest is the payload.

#![no_main]

use deputy_fuzz::value::{CodecError, Type, Value, json, msgpack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((ty, payload)) = split(data) else {
        return;
    };
    let from_msgpack = round_trip(&ty, payload, msgpack::decode, msgpack::encode);
    let from_json = round_trip(&ty, payload, json::decode, json::encode);
    // A wholly-known value must also cross to the other encoding, unless it
    // holds what JSON cannot write (infinities).
    for value in [from_msgpack, from_json].into_iter().flatten() {
        if let Ok(bytes) = msgpack::encode(&ty, &value) {
            assert_eq!(msgpack::decode(&ty, &bytes), Ok(value.clone()));
        }
        if let Ok(text) = json::encode(&ty, &value) {
            assert_eq!(json::decode(&ty, &text), Ok(value));
        }
    }
});

/// Decodes; if that works, the value must re-encode and decode to itself.
fn round_trip(
    ty: &Type,
    payload: &[u8],
    decode: fn(&Type, &[u8]) -> Result<Value, CodecError>,
    encode: fn(&Type, &Value) -> Result<Vec<u8>, CodecError>,
) -> Option<Value> {
    let value = decode(ty, payload).ok()?;
    let bytes =
        encode(ty, &value).unwrap_or_else(|e| panic!("decoded {value:?} does not re-encode: {e}"));
    assert_eq!(
        decode(ty, &bytes),
        Ok(value.clone()),
        "re-encoded as {bytes:?}"
    );
    Some(value)
}

fn split(data: &[u8]) -> Option<(Type, &[u8])> {
    if let Some(rest) = data.strip_prefix(b"T") {
        let end = rest.iter().position(|b| *b == b'\n')?;
        let ty = Type::from_json_bytes(&rest[..end]).ok()?;
        return Some((ty, &rest[end + 1..]));
    }
    let mut bytes = data.iter().copied();
    let ty = derive_type(&mut bytes, 0);
    let used = data.len() - bytes.len();
    Some((ty, &data[used..]))
}

/// A type from a byte stream, one byte per node; deep or exhausted input
/// ends in leaves, so every input yields some type.
fn derive_type(bytes: &mut impl Iterator<Item = u8>, depth: usize) -> Type {
    let Some(b) = bytes.next() else {
        return Type::String;
    };
    let leaf = |b: u8| match b % 4 {
        0 => Type::Bool,
        1 => Type::Number,
        2 => Type::String,
        _ => Type::Dynamic,
    };
    if depth >= 6 {
        return leaf(b);
    }
    match b % 9 {
        4 => Type::list(derive_type(bytes, depth + 1)),
        5 => Type::set(derive_type(bytes, depth + 1)),
        6 => Type::map(derive_type(bytes, depth + 1)),
        7 => {
            let count = usize::from(b / 9 % 4);
            let names = ["a", "b", "c", "d"];
            Type::Object(
                names[..count]
                    .iter()
                    .map(|n| (n.to_string(), derive_type(bytes, depth + 1)))
                    .collect(),
            )
        }
        8 => Type::Tuple(
            (0..b / 9 % 4)
                .map(|_| derive_type(bytes, depth + 1))
                .collect(),
        ),
        _ => leaf(b),
    }
}
