//! Creates that carry an `Idempotency-Key` (rules in `model::idempotency`).
//! The first attempt writes its object and a record of it in one
//! transaction; a retry with the same key and body gets that object back
//! without a second one or a second audit event, and with another body a
//! 422. The record keeps digests of the key and body, the object's name
//! and, for a new API key, its token sealed (AES-256-GCM) under a key
//! derived from the idempotency key, which the broker does not keep: the
//! store alone cannot give the token away.

use std::future::Future;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::super::auth::Caller;
use super::super::error::{ApiError, ApiResult};
use super::super::extract::IdempotencyKey;
use super::super::state::AppState;
use super::super::store::Once;
use crate::model::idempotency::{HEADER, KEPT_FOR, check_key, fingerprint, lookup};
use crate::model::timestamp::{self, now};

/// A create's Idempotency-Key, checked, with the digests it is stored by.
pub struct Request {
    key: String,
    key_hash: String,
    fingerprint: String,
}

/// The request's key and digests, or `None` for a create sent without a
/// key. The route is part of what the key stands for, so that one key
/// cannot stand for creates of two kinds.
pub fn request(
    caller: &Caller,
    sent: &IdempotencyKey,
    body: &impl Serialize,
) -> ApiResult<Option<Request>> {
    let Some(key) = &sent.key else {
        return Ok(None);
    };
    check_key(key).map_err(|e| ApiError::invalid(HEADER, e.0))?;
    Ok(Some(Request {
        key_hash: lookup(caller.key_id(), key),
        fingerprint: fingerprint(&sent.route, body),
        key: key.clone(),
    }))
}

impl Request {
    /// The record the create writes beside its object, `target` (its
    /// audit event's target); `secret`, a new key's token, is sealed.
    pub fn once(&self, target: &str, secret: Option<&str>) -> Once {
        let created = time::OffsetDateTime::now_utc();
        Once {
            key_hash: self.key_hash.clone(),
            fingerprint: self.fingerprint.clone(),
            target: target.to_string(),
            sealed_answer: secret.map(|s| seal(&self.key, s)),
            created_at: timestamp::format(created),
            kept_until: timestamp::format(created + KEPT_FOR),
        }
    }
}

/// The object an earlier attempt created, to answer its retry with.
pub struct Earlier {
    /// Its audit target: `stack/net`, `key/0123...`, ...
    pub target: String,
    /// A new key's token, unsealed.
    pub secret: Option<String>,
}

impl Earlier {
    /// The object's id: `target` after its kind (`stack/`, `key/`, ...).
    pub fn id(&self, kind: &str) -> ApiResult<&str> {
        self.target
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "an Idempotency-Key remembered {:?} for a create of a {kind}",
                    self.target
                ))
            })
    }
}

/// What a create answered: its new object, or the one the first attempt
/// with its key made.
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

impl<T> Created<T> {
    /// The same answer about a part of the value.
    pub fn map<U>(self, part: impl FnOnce(T) -> U) -> Created<U> {
        Created {
            value: part(self.value),
            replayed: self.replayed,
        }
    }
}

/// Runs `create` unless an earlier attempt with the same key made its
/// object, in which case `replay` reads that object back. A create that
/// fails because its first attempt committed meanwhile (two attempts in
/// flight at once) is answered the same way.
pub async fn create_once<T, C, CF, R, RF>(
    state: &AppState,
    request: Option<&Request>,
    create: C,
    replay: R,
) -> ApiResult<Created<T>>
where
    C: FnOnce() -> CF,
    CF: Future<Output = ApiResult<T>>,
    R: FnOnce(Earlier) -> RF,
    RF: Future<Output = ApiResult<T>>,
{
    let replayed = |value| Created {
        value,
        replayed: true,
    };
    if let Some(r) = request
        && let Some(earlier) = earlier(state, r).await?
    {
        return replay(earlier).await.map(replayed);
    }
    match create().await {
        Ok(value) => Ok(Created {
            value,
            replayed: false,
        }),
        Err(e) => match request {
            Some(r) => match earlier(state, r).await {
                Ok(Some(earlier)) => replay(earlier).await.map(replayed),
                _ => Err(e),
            },
            None => Err(e),
        },
    }
}

/// The create remembered under the request's key, if any; a 422 when it
/// was made by a request with another body or route.
async fn earlier(state: &AppState, r: &Request) -> ApiResult<Option<Earlier>> {
    let Some(once) = state.store.remembered(&r.key_hash, &now()).await? else {
        return Ok(None);
    };
    if once.fingerprint != r.fingerprint {
        return Err(ApiError::invalid(
            HEADER,
            format!(
                "this {HEADER} was used at {} for a create with another body or route: a retry \
                 sends the very request it retries; a new create needs a new key",
                once.created_at
            ),
        ));
    }
    let secret = once
        .sealed_answer
        .as_deref()
        .map(|sealed| {
            open(&r.key, sealed).ok_or_else(|| {
                ApiError::Internal("a remembered answer does not open with its key".into())
            })
        })
        .transpose()?;
    Ok(Some(Earlier {
        target: once.target,
        secret,
    }))
}

/// The AES-256-GCM key for answers kept under `idempotency_key`.
fn answer_key(idempotency_key: &str) -> LessSafeKey {
    let digest = Sha256::digest(format!("idempotent-answer\n{idempotency_key}").as_bytes());
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &digest).expect("a 32-byte AES-256 key"))
}

/// `secret` encrypted under the idempotency key: base64url of the nonce,
/// the ciphertext and the tag.
fn seal(idempotency_key: &str, secret: &str) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut sealed = secret.as_bytes().to_vec();
    answer_key(idempotency_key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut sealed,
        )
        .expect("AES-GCM seals any short text");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// What [`seal`] sealed, if `sealed` was sealed under this key.
fn open(idempotency_key: &str, sealed: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut rest = rest.to_vec();
    let plain = answer_key(idempotency_key)
        .open_in_place(nonce, Aad::empty(), &mut rest)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_answers_open_only_with_their_key() {
        let sealed = seal("01JEXAMPLE0000000000000000", "dpk_0123456789abcdef_secret");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            open("01JEXAMPLE0000000000000000", &sealed).as_deref(),
            Some("dpk_0123456789abcdef_secret")
        );
        assert_eq!(open("01JEXAMPLE0000000000000001", &sealed), None);
        assert_eq!(open("01JEXAMPLE0000000000000000", "AAAA"), None);
    }
}
