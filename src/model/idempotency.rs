//! Idempotency keys: a create sent again with the `Idempotency-Key` of an
//! earlier attempt (whose answer was lost) gets that attempt's answer
//! instead of a second object. The rules for the key, and the digests the
//! broker keeps in its place: the key itself is never stored.

use std::time::Duration;

use serde::Serialize;

use super::Invalid;
use super::secret::sha256_hex;

/// The header a create carries its key in.
pub const HEADER: &str = "Idempotency-Key";
/// How long a key is remembered after its create.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);
/// A key's length: long enough to be unpredictable (a UUID or a ULID is),
/// short enough to bound what an outsider sends.
const MIN_CHARS: usize = 16;
const MAX_CHARS: usize = 255;

/// A key is 16 to 255 visible ASCII characters. It should be random: a
/// new key's token is kept (for a retry) encrypted under it.
pub fn check_key(key: &str) -> Result<(), Invalid> {
    if !(MIN_CHARS..=MAX_CHARS).contains(&key.len()) {
        return Err(Invalid(format!(
            "an {HEADER} has {MIN_CHARS} to {MAX_CHARS} characters (this one has {}): send a \
             random one per create, such as a UUID or a ULID",
            key.len()
        )));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid(format!(
            "an {HEADER} holds visible ASCII characters only (no spaces): send a UUID or a ULID"
        )));
    }
    Ok(())
}

/// What the broker looks a key up by: a digest of the caller's key id and
/// the key, so one caller's keys never meet another's.
pub fn lookup(caller: &str, key: &str) -> String {
    sha256_hex(&format!("idempotency-key\n{caller}\n{key}"), 32)
}

/// A digest of a create's route and body: a retry must send the same.
pub fn fingerprint(route: &str, body: &impl Serialize) -> String {
    let body = serde_json::to_string(body).expect("request bodies serialize");
    sha256_hex(&format!("{route}\n{body}"), 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_digests_keep_callers_apart() {
        assert!(check_key("01JEXAMPLE0000000000000000").is_ok());
        assert!(check_key("short").unwrap_err().0.contains("16 to 255"));
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(
            check_key("has a space in it, too long")
                .unwrap_err()
                .0
                .contains("visible")
        );
        assert!(check_key("tab\tseparated-key-value").is_err());
        let key = "01JEXAMPLE0000000000000000";
        assert_ne!(lookup("aaaa", key), lookup("bbbb", key));
        assert_eq!(lookup("aaaa", key), lookup("aaaa", key));
        assert_ne!(
            fingerprint("/v1/stacks", &serde_json::json!({"id": "net"})),
            fingerprint("/v1/stacks", &serde_json::json!({"id": "app"}))
        );
    }
}
