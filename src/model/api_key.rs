//! The shape of an API key, `dpk_<id>_<secret>`, known to the broker that
//! mints and checks keys and to the CLI and the provider that read them,
//! and the one rule for where a client finds its key.
//!
//! Where a key comes from, first found wins: a flag (the CLI's `--token`,
//! the provider's `token`), then a file (`--token-file` / `token_file`),
//! then the `DEPUTY_TOKEN_FILE` variable, then `DEPUTY_TOKEN`. Giving more
//! than one is not an error. Reading is the caller's (this module does no
//! I/O); what a key must look like, and what a message says when it does
//! not, is here.

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

/// The variable naming a file that holds the key.
pub const FILE_ENV: &str = "DEPUTY_TOKEN_FILE";
/// The variable holding the key itself.
pub const ENV: &str = "DEPUTY_TOKEN";

/// `key`, read from `source` (a flag, a file, a variable: for the message),
/// if it has a key's shape; else what `source` must hold instead.
pub fn check(key: &str, source: &str) -> Result<(), super::Invalid> {
    if key.is_empty() {
        return Err(super::Invalid(format!(
            "{source} is empty: it must hold an API key, {SHAPE} (create one with `deputy \
             token create`)"
        )));
    }
    if split(key).is_none() {
        return Err(super::Invalid(format!(
            "{source} does not hold an API key: keys look like {SHAPE}, on one line"
        )));
    }
    Ok(())
}

/// The key in a key file's text: its first line, without surrounding
/// whitespace (a file written by `echo` ends in a newline).
pub fn from_file_text(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
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

    #[test]
    fn a_bad_key_names_its_source_and_the_shape() {
        let empty = check("", "the key file /k").unwrap_err().0;
        assert!(empty.starts_with("the key file /k is empty") && empty.contains(SHAPE));
        let other = check("ghp_abc", "DEPUTY_TOKEN").unwrap_err().0;
        assert!(other.starts_with("DEPUTY_TOKEN does not hold an API key"));
        assert!(check("dpk_0123456789abcdef_s", "x").is_ok());
        assert_eq!(from_file_text("  dpk_a_b \nsecond\n"), "dpk_a_b");
    }
}
