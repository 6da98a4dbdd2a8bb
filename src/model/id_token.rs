//! An OIDC ID token before its signature is checked: the algorithm, key id
//! and issuer read from it to find the runner trusts and the signing key.
//! None of it is trusted yet; it only decides where to look, and the
//! broker (`broker::oidc`) then validates the token against what it found.
//! Anyone can send a token, so everything here is bounded, and it is pure
//! so that it can be fuzzed (`fuzz/fuzz_targets/id_token.rs`).

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::Invalid;
use super::outsider::bounded;

/// Asymmetric signatures only: never `none`, never HMAC, so a public key
/// can never be used as a shared secret.
pub const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
/// The longest `kid` looked up: real ones are thumbprints or short names.
pub const MAX_KID_BYTES: usize = 256;
/// The longest `iss` looked up (a runner trust's issuer is as long at most).
pub const MAX_ISSUER_BYTES: usize = 256;
/// The longest part of a refusal that quotes the token (a parser's
/// complaint about it), in characters.
const QUOTED_CHARS: usize = 160;

/// What a token claims about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Unverified {
    pub alg: Algorithm,
    /// Its header's `kid`; required once the issuer is known to be trusted.
    pub kid: Option<String>,
    pub issuer: String,
}

/// Reads `token`'s header and claims without checking its signature.
/// Refuses a token no trust could accept, saying why (a refusal quotes
/// the token only in bounded form).
pub fn read(token: &str) -> Result<Unverified, Invalid> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| {
        Invalid(format!(
            "its header is not one of a signed JWT deputy accepts ({}); deputy accepts RS*, \
             PS*, ES256, ES384 and EdDSA signatures, never `none` or HMAC",
            quoted(&e)
        ))
    })?;
    if !ALLOWED.contains(&header.alg) {
        return Err(Invalid(format!(
            "it is signed with {:?}; deputy accepts only asymmetric signatures (RS*, PS*, \
             ES256, ES384, EdDSA)",
            header.alg
        )));
    }
    if let Some(kid) = &header.kid
        && kid.len() > MAX_KID_BYTES
    {
        return Err(Invalid(format!(
            "its key id (`kid`) is {} bytes long; key ids are at most {MAX_KID_BYTES}",
            kid.len()
        )));
    }
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|e| Invalid(format!("its claims cannot be read: {}", quoted(&e))))?;
    let issuer = match claims.get("iss") {
        Some(Value::String(iss)) if !iss.is_empty() && iss.len() <= MAX_ISSUER_BYTES => iss.clone(),
        _ => return Err(Invalid("it has no usable `iss` claim".into())),
    };
    Ok(Unverified {
        alg: header.alg,
        kid: header.kid,
        issuer,
    })
}

/// A parser's complaint about a token, which may quote any part of it:
/// bounded, so a forged token's huge header is neither echoed back nor
/// stored.
pub fn quoted(e: &dyn std::fmt::Display) -> String {
    bounded(&e.to_string(), QUOTED_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn token(header: Value, claims: Value) -> String {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    #[test]
    fn reads_what_finds_the_trusts_and_refuses_the_rest() {
        let iss = serde_json::json!({"iss": "https://token.actions.githubusercontent.com"});
        let read_ok = read(&token(
            serde_json::json!({"alg": "RS256", "kid": "k1"}),
            iss.clone(),
        ))
        .unwrap();
        assert_eq!(read_ok.kid.as_deref(), Some("k1"));
        assert_eq!(
            read_ok.issuer,
            "https://token.actions.githubusercontent.com"
        );
        for (header, claims, why) in [
            (
                serde_json::json!({"alg": "HS256"}),
                iss.clone(),
                "only asymmetric",
            ),
            (
                serde_json::json!({"alg": "none"}),
                iss.clone(),
                "never `none`",
            ),
            (
                serde_json::json!({"alg": "RS256", "kid": "k".repeat(300)}),
                iss.clone(),
                "300 bytes long",
            ),
            (
                serde_json::json!({"alg": "RS256"}),
                serde_json::json!({}),
                "no usable `iss`",
            ),
            (
                serde_json::json!({"alg": "RS256"}),
                serde_json::json!({"iss": "x".repeat(300)}),
                "no usable `iss`",
            ),
        ] {
            let e = read(&token(header, claims)).unwrap_err();
            assert!(e.0.contains(why), "wanted {why:?} in {e}");
        }
        let huge = format!("{}.e30.c2ln", "A".repeat(100_000));
        assert!(read(&huge).unwrap_err().0.len() < 600);
    }
}
