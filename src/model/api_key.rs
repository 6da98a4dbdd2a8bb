//! The shape of an API key, `dpk_<id>_<secret>`, known to the broker that
//! mints and checks keys and to the CLI that reads them from files.

/// What every key starts with.
pub const PREFIX: &str = "dpk_";
/// How a key looks, for messages.
pub const SHAPE: &str = "dpk_<16 hex digits>_<secret>";

/// Splits `dpk_<id>_<secret>`. The id must be what the broker mints (16
/// hex digits): it names the key in audit events and warnings, so nothing
/// else a caller typed is stored or printed as one.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let is_id = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let is_secret = !secret.is_empty() && !secret.chars().any(char::is_whitespace);
    (is_id && is_secret).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_id_and_secret() {
        assert_eq!(
            split("dpk_0123456789abcdef_s3cret"),
            Some(("0123456789abcdef", "s3cret"))
        );
        assert!(split("dpk_short_x").is_none());
        assert!(split("Bearer x").is_none());
        assert!(split("dpk_0123456789abcdef_").is_none());
        assert!(split("dpk_0123456789abcdef_two words").is_none());
    }
}
