//! `DynamicValue` in and out: which of its two encodings to read and write.
//!
//! Terraform fills `msgpack`; `json` is the fallback the protocol allows a
//! client to use instead. Answers are always msgpack, because Terraform does
//! not read JSON back in every RPC.

use super::{CodecError, Type, Value, json, msgpack};
use crate::proto::tfplugin6::DynamicValue;

/// Decodes a request's `DynamicValue` against `ty`. An absent message, or one
/// with both fields empty, is null: that is how Terraform sends "no value"
/// (for example the prior state of a resource being created).
pub fn decode_dynamic(ty: &Type, dv: Option<&DynamicValue>) -> Result<Value, CodecError> {
    match dv {
        Some(dv) if !dv.msgpack.is_empty() => msgpack::decode(ty, &dv.msgpack),
        Some(dv) if !dv.json.is_empty() => json::decode(ty, &dv.json),
        _ => Ok(Value::Null),
    }
}

/// Encodes a response value as msgpack.
pub fn encode_dynamic(ty: &Type, v: &Value) -> Result<DynamicValue, CodecError> {
    Ok(DynamicValue {
        msgpack: msgpack::encode(ty, v)?,
        json: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dv(msgpack: &[u8], json: &[u8]) -> DynamicValue {
        DynamicValue {
            msgpack: msgpack.to_vec(),
            json: json.to_vec(),
        }
    }

    #[test]
    fn decode_picks_the_encoding() {
        #[rustfmt::skip]
        let cases = [
            ("absent", None, Ok(Value::Null)),
            ("both empty", Some(dv(b"", b"")), Ok(Value::Null)),
            ("msgpack", Some(dv(b"\xa1a", b"")), Ok(Value::string("a"))),
            ("msgpack preferred", Some(dv(b"\xa1a", b"\"b\"")), Ok(Value::string("a"))),
            ("json fallback", Some(dv(b"", b"\"b\"")), Ok(Value::string("b"))),
            ("errors pass through", Some(dv(b"", b"1 2")), Err("invalid JSON: expected the end of the input after the value at byte 2")),
        ];
        for (name, input, want) in cases {
            let got = decode_dynamic(&Type::String, input.as_ref()).map_err(|e| e.message);
            assert_eq!(got, want.map_err(str::to_string), "{name}");
        }
    }

    #[test]
    fn encode_is_msgpack_only() {
        let got = encode_dynamic(&Type::String, &Value::unknown());
        assert_eq!(got, Ok(dv(&[0xd4, 0, 0], b"")));
    }
}
